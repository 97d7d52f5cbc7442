"""The one base model every IR node uses: frozen, strict about unknown keys."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Immutable, JSON-serialisable; unknown keys are an error so typos in hand-written IR surface."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DeclaredImplementation(Frozen):
    """An implementation that is data, not a Python function (a container, an importer, a PVC action):
    what it does is its whole content, so that content is its cache identity."""

    @property
    def source_digest(self) -> str:
        data = self.model_dump(mode="json")
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    @property
    def deps_digest(self) -> str:
        return ""

    @property
    def module_file(self) -> None:
        """Nothing to import before it runs."""
        return None
