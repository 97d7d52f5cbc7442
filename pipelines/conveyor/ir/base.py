"""The one base model every IR node uses: frozen, strict about unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable, JSON-serialisable; unknown keys are an error so typos in hand-written IR surface."""

    model_config = ConfigDict(frozen=True, extra="forbid")
