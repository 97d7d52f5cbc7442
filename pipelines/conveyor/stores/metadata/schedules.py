"""SQL for schedules (the recurring runs `conveyor schedule` creates). Runs inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from conveyor.stores.metadata import rows
from conveyor.stores.metadata.api import MetadataStoreError, ScheduleRecord
from conveyor.stores.metadata.schema import schedules


def _record(row) -> ScheduleRecord:
    return ScheduleRecord(name=row.name, pipeline_name=row.pipeline_name, cron=row.cron, timezone=row.timezone,
                          namespace=row.namespace, created_at=row.created_at, updated_at=row.updated_at)


def record_schedule(conn: Connection, name: str, pipeline_name: str, cron: str, timezone: str | None,
                    namespace: str, now: float) -> ScheduleRecord:
    if not name or not cron.strip():
        raise MetadataStoreError(f"schedule {name!r}: a name and a cron expression are required (cron {cron!r})")
    values = {"pipeline_name": pipeline_name, "cron": cron.strip(), "timezone": timezone or None,
              "namespace": namespace or "", "updated_at": now}
    conn.execute(rows.insert(conn, schedules).values(name=name, created_at=now, **values)
                 .on_conflict_do_update(index_elements=["name"], set_=values))
    return _record(conn.execute(select(schedules).where(schedules.c.name == name)).one())


def list_schedules(conn: Connection) -> list[ScheduleRecord]:
    return [_record(r) for r in conn.execute(select(schedules).order_by(schedules.c.name))]
