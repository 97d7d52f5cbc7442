"""The conveyor CrossGuard policy pack (see PulumiPolicy.yaml and docs/policy.md).

Importing `policies` is safe: it does not create the PolicyPack (that happens only in
`__main__.py`, which the Pulumi CLI runs and which nothing imports).
"""
