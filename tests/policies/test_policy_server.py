"""The pack under the real CrossGuard analyzer server agrees with the offline runner.

Why: the runner claims to be a stand-in for `pulumi preview --policy-pack policies`. This starts
the pack exactly as the Pulumi CLI does (`python -m pulumi.policy <engine> policies`, which runs
`policies/__main__.py` and serves the Analyzer gRPC API), sends it the broken program's recorded
resources the way the engine would, and checks that it reports the same (rule, resource) pairs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from conveyor.platform import policy_runner as pr
from conveyor.platform.mocks import run_program

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).parent / "broken_program"


@pytest.fixture(scope="module")
def analyzer():
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi.policy", "127.0.0.1:1", "policies"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = proc.stdout.readline().strip()
        assert port.isdigit(), (
            f"policy pack did not start: {port!r} {proc.stderr.read() if proc.poll() else ''}"
        )
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _struct(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(pr.to_wire(values))
    return struct


def test_server_publishes_every_rule_with_its_level(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
    pack = pr.load_pack()
    assert info.name == pack.name
    published = {p.name: p.enforcementLevel for p in info.policies}
    assert set(published) == {p.name for p in pack.policies}
    assert published["rds-multi-az-prod"] == analyzer_pb2.ADVISORY
    assert published["rds-not-publicly-accessible"] == analyzer_pb2.MANDATORY
    schema = next(p for p in info.policies if p.name == "rds-backup-retention").configSchema
    assert "minimumRetentionDays" in schema.properties


def test_server_and_offline_runner_report_the_same_violations(analyzer, tmp_path):
    recorded = run_program(BROKEN, _empty_stack(tmp_path))
    server: set[tuple[str, str]] = set()
    for r in recorded.resources:
        reply = analyzer.Analyze(
            analyzer_pb2.AnalyzeRequest(type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name),
            timeout=20,
        )
        server |= {(d.policyName, d.urn or r.urn) for d in reply.diagnostics}
    stack_reply = analyzer.AnalyzeStack(
        analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r.type,
                    urn=r.urn,
                    name=r.name,
                    properties=_struct({**r.inputs, **r.outputs, **({"id": r.id} if r.id else {})}),
                    dependencies=r.options.get("depends_on") or [],
                )
                for r in recorded.resources
            ]
        ),
        timeout=20,
    )
    server |= {(d.policyName, d.urn) for d in stack_reply.diagnostics}
    offline = pr.evaluate(recorded.resources)
    assert server == {(v.rule, v.urn) for v in offline.violations}
    assert (
        "rds-not-publicly-accessible",
        recorded.get("aws:rds/instance:Instance", "public-db").urn,
    ) in server


def test_unknown_inputs_are_advisory_on_the_server_and_notes_offline(analyzer):
    unknown = pr._UNKNOWN_WIRE
    reply = analyzer.Analyze(
        analyzer_pb2.AnalyzeRequest(
            type="aws:rds/instance:Instance",
            properties=_struct({"storageEncrypted": unknown}),
            urn="urn:pulumi:dev::p::aws:rds/instance:Instance::db",
            name="db",
        ),
        timeout=20,
    )
    preview = [d for d in reply.diagnostics if d.policyName == "rds-storage-encrypted"]
    assert (
        preview
        and preview[0].enforcementLevel == analyzer_pb2.ADVISORY
        and "during preview" in preview[0].message
    )


def _empty_stack(directory: Path) -> Path:
    path = directory / "Pulumi.server-check.yaml"
    path.write_text("config: {}\n")
    return path
