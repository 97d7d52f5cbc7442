"""kfp-kubernetes' `empty_dir_mount`: a scratch volume for one task's pod.

On Argo: an `emptyDir` volume (with `medium` and `sizeLimit`) mounted at `mount_path`. Locally: a
fresh folder per attempt, linked at `mount_path` and removed when the attempt ends.
"""

from __future__ import annotations

import re
from typing import Any

from conveyor.kubernetes import _append, _error, _mount_path, _quantity, _volume_name

_MEDIUM = re.compile(r"Memory|HugePages(-\d+(Ki|Mi|Gi))?")


def empty_dir_mount(task: Any, volume_name: str, mount_path: str, medium: str | None = None,
                    size_limit: str | None = None) -> Any:
    if medium not in (None, "") and not (isinstance(medium, str) and _MEDIUM.fullmatch(medium)):
        raise _error(task, f"medium {medium!r} is not one of Memory, HugePages, HugePages-<size> (or None: the "
                           "node's disk)", "medium")
    return _append(task, "empty_dir_mounts", {
        "volume_name": _volume_name(task, volume_name), "mount_path": _mount_path(task, mount_path),
        "medium": medium or None, "size_limit": None if size_limit is None else _quantity(task, size_limit, "size_limit"),
    })
