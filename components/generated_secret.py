"""`GeneratedSecret`: a random credential created once and kept in the stack state as a secret.

Why not `pulumi_random`: its provider is a Go plugin built from the Terraform bridge, which cannot
be built from the Go module proxy (nor downloaded) in air-gapped installs. A Pulumi *dynamic*
provider needs no plugin: the Python SDK serves it (`pulumi-resource-pulumi-python` runs
`python -m pulumi.dynamic` in the project's virtualenv). The value comes from `secrets` (the OS
CSPRNG) in `create` only, so later `up`s read it back from the state and report no change; changing
`length` replaces it. The value is an additional secret output, never plain in the state or logs.
"""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

import pulumi
import pulumi.dynamic as dyn

ALPHABET = string.ascii_letters + string.digits


def generate(length: int) -> str:
    """Letters and digits only: the value goes into URLs and config files unescaped."""
    if not 16 <= length <= 128:
        raise ValueError(f"GeneratedSecret length must be between 16 and 128, got {length}")
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


class _Provider(dyn.ResourceProvider):
    def create(self, props: dict[str, Any]) -> dyn.CreateResult:
        length = int(props["length"])
        return dyn.CreateResult(id_=uuid.uuid4().hex, outs={"length": length, "result": generate(length)})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.DiffResult:
        changed = int(olds.get("length", 0)) != int(news["length"])
        return dyn.DiffResult(changes=changed, replaces=["length"] if changed else [], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> dyn.UpdateResult:
        return dyn.UpdateResult(outs={**olds, "length": int(news["length"])})


class GeneratedSecret(dyn.Resource):
    """`result` is the generated value (a secret output)."""

    result: pulumi.Output[str]

    def __init__(self, name: str, length: int, opts: pulumi.ResourceOptions | None = None) -> None:
        generate(length)  # validate before anything is registered
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=["result"]))
        super().__init__(_Provider(), name, {"length": length, "result": None}, opts)
