"""The CrossGuard entry point: `pulumi preview --policy-pack policies` runs this file.

Creating the PolicyPack starts the analyzer's gRPC server and blocks forever, so this file does
nothing else and nothing imports it. The CLI runs it with `policies/` on sys.path, hence the
top-level `rules` import; the rules and their Policy objects live in `rules/`.
"""

from pulumi_policy import PolicyPack
from rules.catalog import PACK_DESCRIPTION, PACK_ENFORCEMENT_LEVEL, PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    policies=POLICIES,
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
)
