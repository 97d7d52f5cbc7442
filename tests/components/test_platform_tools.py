"""The offline tools: recording mocks (secrets/options/isolation), `plan`, monitoring asset loading."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from components.monitoring import _k8s_name, load_dashboards, load_rules
from conveyor.platform.mocks import UNKNOWN, RecordedProgram, Secret, run_program, unwrap
from conveyor.platform.plan import plan, render, summarize
from conveyor.platform.stack_files import StackFileError, load_stack

ROOT = Path(__file__).resolve().parents[2]

TINY = """
import sys
sys.path.insert(0, ROOT)
import pulumi, pulumi_kubernetes as k8s
from components.generated_secret import GeneratedSecret
c = pulumi.Config()
class Comp(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("demo:x:Comp", name, None, opts)
        self.pw = GeneratedSecret("pw", length=20, opts=pulumi.ResourceOptions(
            parent=self, protect=True, aliases=[pulumi.Alias(name="old-pw")]))
        self.register_outputs({"pw": self.pw.result})
x = Comp("c")
k8s.core.v1.Secret("s", string_data={"t": c.require_secret("token"), "p": x.pw.result})
pulumi.export("env", c.require("env")); pulumi.export("size", c.get_int("size")); pulumi.export("pw", x.pw.result)
pulumi.export("teams", c.get_object("teams"))
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tiny")
    (d / "Pulumi.yaml").write_text(
        "name: demo\nruntime: python\nstackConfigDir: st\nconfig:\n  size:\n    default: 3\n"
    )
    (d / "st").mkdir()
    (d / "st" / "Pulumi.dev.yaml").write_text(
        "config:\n  demo:env: dev\n  teams: [{name: a}]\n  token: {secure: v1:AAAA}\n"
    )
    (d / "__main__.py").write_text(TINY.replace("ROOT", repr(str(ROOT))))
    return d


def test_mocks_record_parent_options_and_secrets(tiny):
    rec = run_program(tiny, "dev")
    comp = rec.get("demo:x:Comp", "c")
    pw = rec.get("pulumi-python:dynamic:Resource", "pw")
    assert comp.parent == rec.stack_urn and pw.parent == comp.urn and not comp.custom and pw.custom
    assert pw.options["protect"] is True and pw.options["aliases"][0]["spec"]["name"] == "old-pw"
    assert pw.inputs["length"] == 20 and isinstance(pw.outputs["result"], Secret)
    secret = rec.get("kubernetes:core/v1:Secret", "s")
    assert isinstance(secret.inputs["stringData"], Secret)
    assert unwrap(secret.inputs["stringData"])["t"] == "[secret]"  # `secure:` values become placeholders
    assert (
        rec.outputs["env"] == "dev" and rec.outputs["size"] == 3 and rec.outputs["teams"] == [{"name": "a"}]
    )
    assert isinstance(rec.outputs["pw"], Secret) and "redacted" in repr(rec.outputs["pw"])
    assert isinstance(comp.outputs["pw"], Secret)


def test_mocks_isolated_run_matches_in_process(tiny):
    a, b = run_program(tiny, "dev"), run_program(tiny, "dev", isolated=True)
    assert [r.urn for r in a.resources] == [r.urn for r in b.resources]
    assert isinstance(b.outputs["pw"], Secret)
    assert RecordedProgram.from_dict(json.loads(json.dumps(a.to_dict()))).outputs.keys() == a.outputs.keys()


def test_mocks_overrides_and_preview(tiny):
    rec = run_program(tiny, "dev", config_overrides={"env": "prod"}, secret_overrides={"token": "tok-123456"})
    assert rec.outputs["env"] == "prod"
    assert unwrap(rec.get("kubernetes:core/v1:Secret", "s").inputs["stringData"])["t"] == "tok-123456"
    assert UNKNOWN is type(UNKNOWN)()


def test_stack_file_errors_name_the_file(tiny):
    with pytest.raises(StackFileError, match="known stacks: \\['dev'\\]"):
        load_stack(tiny, "nope")
    assert load_stack(tiny, tiny / "st" / "Pulumi.dev.yaml").stack == "dev"


def test_plan_text_and_json(record_stack):
    summary = summarize(record_stack("prod-aws"))
    assert summary["total"] == len(summary["resources"]) == sum(summary["counts"].values())
    assert summary["counts"]["aws:rds/instance:Instance"] == 1
    text = render(summary)
    assert "+ conveyor:platform:Platform  conveyor" in text and "    + aws:rds/instance:Instance" in text
    assert "[protected]" in text and "Resources by type:" in text
    assert "m0ck" not in text and "m0ck" not in json.dumps(summary), "secrets must print as [secret]"
    assert summary["outputs"]["profile"]["metadata_url"] == "[secret]"


def test_plan_entrypoint_is_fast(record_stack):
    record_stack("dev-gcp")  # imports warm, as in a CLI process after import
    start = time.perf_counter()
    result = plan("dev-gcp", ROOT, as_json=True)
    assert time.perf_counter() - start < 5
    assert result["stack"] == "dev-gcp" and isinstance(plan("local", ROOT), str)


def test_monitoring_loads_rule_files_of_both_shapes(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "rules" / "a.yaml").write_text(
        "groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up == 0\n"
    )
    (tmp_path / "rules" / "b.yaml").write_text(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: bee}\nspec: {groups: []}\n"
    )
    (tmp_path / "dashboards" / "d.json").write_text('{"title": "d"}')
    assert set(load_rules(tmp_path / "rules")) == {"a", "bee"}
    assert load_dashboards(tmp_path / "dashboards") == {"d.json": '{"title": "d"}'}
    (tmp_path / "dashboards" / "bad.json").write_text("{")
    with pytest.raises(json.JSONDecodeError):
        load_dashboards(tmp_path / "dashboards")
    assert load_rules(tmp_path / "missing") == {}


def test_every_asset_is_deployed(recorded):
    rules = {r.inputs["metadata"]["name"] for r in recorded.resources if r.type.endswith(":PrometheusRule")}
    assert rules == {f"conveyor-{_k8s_name(n)}" for n in load_rules()}
    dashboards = [
        r for r in recorded.resources
        if r.type == "kubernetes:core/v1:ConfigMap" and r.inputs["metadata"].get("labels", {}).get("grafana_dashboard")
    ]  # fmt: skip
    assert sorted(k for d in dashboards for k in d.inputs["data"]) == sorted(load_dashboards())
    monitors = {
        r.inputs["metadata"]["name"] for r in recorded.resources if r.type.endswith(":ServiceMonitor")
    }
    assert {"argo-workflows-controller", "nvidia-dcgm-exporter"} <= monitors
