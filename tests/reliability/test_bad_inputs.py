"""The bad-input catalogue: every way a user can hold conveyor wrong, and the one line they get back.

Why: "errors nobody can read" is a top complaint. Each row is one case: what is fed in, the exit
code expected, and fragments the message must contain — naming what is wrong and where (file,
argument, field, key). For CLI rows the suite also checks that no traceback is printed without
--debug and that no partial state is left: no run or attempt left `running`, every artifact row
verifies. Stack configs are validated by `StackConfig.parse` (no CLI reads them outside `pulumi`);
profiles go through `conveyor runs --profile`. New cases are one line each.
"""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.reliability import bad_input_files as F
from tests.reliability.helpers import check_run_integrity, open_store, run_cli

pytestmark = pytest.mark.reliability

# (id, args, expected exit code, fragments the message must contain); FILE: ok.py etc. live in cwd.
CLI_CASES = [
    ("syntax-error", ["run", "syntax.py"], 2, ["syntax.py:5", "syntax error", "expected ':'"]),
    ("dependency-cycle", ["run", "cycle.py"], 2, ["pipeline 'cyc'", "dependency cycle", "add -> add-2 -> add"]),
    ("type-mismatch", ["run", "type_mismatch.py"], 2, ["task 'add', argument 'a'", "has type str", "expects int"]),
    ("unknown-output-name", ["run", "bad_output.py"], 2, ["task 'make'", "has no output 'result'", "'data'"]),
    ("unknown-component-arg", ["run", "unknown_arg.py"], 2, ["task 'add', argument 'bogus'", "unknown argument"]),
    ("missing-component-arg", ["run", "missing_arg.py"], 2, ["task 'add', argument 'a'", "missing required"]),
    ("untyped-component-input", ["run", "untyped.py"], 2, ["component 'add', argument 'a'", "no type annotation"]),
    ("no-pipeline-in-file", ["run", "no_pipeline.py"], 2, ["no_pipeline.py", "no @dsl.pipeline"]),
    ("ambiguous-pipeline", ["run", "two_pipelines.py"], 2, ["several pipelines (one, two)", "two_pipelines.py:NAME"]),
    ("unknown-pipeline-name", ["run", "ok.py:nope", "-p", "n=1"], 2, ["ok.py", "no pipeline named 'nope'"]),
    ("missing-file", ["run", "missing.py"], 2, ["missing.py", "does not exist"]),
    ("import-error", ["run", "import_error.py"], 2, ["No module named 'sklearn_but_misspelled'", "import_error.py:1"]),
    ("error-at-import", ["run", "raises.py"], 2, ["config server unreachable", "raises.py:1"]),
    ("component-outside-pipeline", ["run", "outside.py"], 2, ["component 'add'", "outside a @dsl.pipeline"]),
    ("bad-retry-policy", ["run", "bad_retry.py"], 2, ["task 'add', argument 'num_retries'", "got -1"]),
    ("bad-memory-quantity", ["run", "bad_memory.py"], 2, ["argument 'memory_limit'", "invalid memory quantity 'lots'"]),
    ("non-serialisable-return", ["run", "non_serialisable.py"], 1, ["weird", "'Output' is not JSON-serialisable"]),
    ("return-breaks-signature", ["run", "wrong_return.py"], 1, ["count", "output 'Output' must be int, got str"]),
    ("output-artifact-not-written", ["run", "unwritten_artifact.py"], 1, ["make", "output artifact 'data' was not written"]),
    ("missing-pipeline-arg", ["run", "ok.py"], 2, ["argument 'n'", "missing required argument (type int)"]),
    ("unknown-pipeline-arg", ["run", "ok.py", "-p", "n=1", "-p", "zz=3"], 2, ["argument 'zz'", "takes: n, items"]),
    ("param-wrong-type-int", ["run", "ok.py", "-p", "n=abc"], 2, ["argument 'n'", "expected an int, got 'abc'"]),
    ("param-wrong-type-float", ["run", "ok.py", "-p", "n=1", "-p", "ratio=abc"], 2, ["'ratio'", "expected a float"]),
    ("param-wrong-type-bool", ["run", "ok.py", "-p", "n=1", "-p", "flag=maybe"], 2, ["'flag'", "expected a bool"]),
    ("param-malformed-json-list", ["run", "ok.py", "-p", "n=1", "-p", "items=[1,2"], 2, ["'items'", "JSON list"]),
    ("param-without-equals", ["run", "ok.py", "-p", "n"], 2, ["-p 'n'", "expected NAME=VALUE"]),
    ("param-empty-name", ["run", "ok.py", "-p", "=1"], 2, ["-p '=1'", "expected NAME=VALUE"]),
    ("parallelism-zero", ["run", "ok.py", "-p", "n=1", "--parallelism", "0"], 2, ["--parallelism must be >= 1, got 0"]),
    ("webhook-not-a-url", ["run", "ok.py", "-p", "n=1", "--notify", "not a url"], 2, ["notify target is not a URL"]),
    ("webhook-ftp-scheme", ["run", "ok.py", "-p", "n=1", "--notify", "ftp://hooks.example/x"], 2, ["scheme 'ftp' is not allowed"]),
    ("webhook-no-host", ["run", "ok.py", "-p", "n=1", "--notify", "https://"], 2, ["notify target", "no host"]),
    ("resume-unknown-run", ["resume", "nope-20250101-000000-abcdef"], 2, ["run 'nope-20250101-000000-abcdef' does not exist"]),
    ("show-unknown-run", ["show", "nope-1"], 2, ["run 'nope-1' does not exist"]),
    ("profile-missing-file", ["runs", "--profile", "absent.json"], 2, ["absent.json"]),
    ("profile-not-json", ["runs", "--profile", "not_json.json"], 2, ["not_json.json", "not JSON"]),
    ("profile-no-artifact-root", ["runs", "--profile", "no_artifact_root.json"], 2, ["artifact_root: Field required"]),
    ("profile-no-metadata-url", ["runs", "--profile", "no_metadata_url.json"], 2, ["metadata_url: Field required"]),
    ("profile-artifact-scheme", ["runs", "--profile", "http_artifact_root.json"], 2, ["artifact_root 'http://bucket/runs' must start with"]),
    ("profile-metadata-scheme", ["runs", "--profile", "mysql_metadata.json"], 2, ["metadata_url", "scheme 'mysql' is not one of"]),
    ("profile-unknown-fallback", ["runs", "--profile", "bad_fallback.json"], 2, ["gpu_pools[a10g].fallback 'a10g-od' is not a pool"]),
    ("metadata-db-closed-port", ["runs", "--profile", "closed_port.json"], 2, ["cannot connect to metadata store", "127.0.0.1", "Connection refused"]),
    ("home-is-a-file", ["run", "ok.py", "-p", "n=1"], 2, ["CONVEYOR_HOME", "cannot be created", "File exists"]),
    ("artifact-corrupted", ["run", "chain.py", "-p", "k=2"], 1, ["input artifact 'data' is corrupt", "not the recorded sha256:"]),
]

SECRETS = ("hunter2", "conveyor:pw@")


def _write_inputs(cwd: Path) -> None:
    for name, text in {**F.FILES, **F.PROFILES}.items():
        (cwd / name).write_text(text)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from tests.services.common import free_port

    cwd = tmp_path_factory.mktemp("bad-inputs")
    _write_inputs(cwd)
    closed = cwd / "closed_port.json"
    closed.write_text(closed.read_text().replace("{closed_port}", str(free_port())))
    return cwd


def _corrupt_a_stored_artifact(cwd: Path, home: Path) -> None:
    """Run chain.py once, then change the bytes of the Dataset it stored (as a task writing to its
    hard-linked input as root could). The next run with another `k` reuses `make` from the cache."""
    first = run_cli("run", "chain.py", "-p", "k=1", "--json", home=home, cwd=cwd)
    assert first.code == 0, first.text
    store = open_store(f"sqlite:///{home / 'metadata.db'}")
    try:
        (art,) = store.find_artifacts(run_id=first.json()["run_id"])
    finally:
        store.close()
    blob = Path(unquote(urlparse(art.uri).path))
    blob.chmod(stat.S_IWUSR | stat.S_IRUSR)
    blob.write_text("1 2 999")


def _check_no_partial_state(home: Path, tampered: tuple[str, ...] = ()) -> None:
    db = home / "metadata.db"
    if not db.exists():
        return
    with sqlite3.connect(db) as conn:
        run_ids = [r[0] for r in conn.execute("SELECT run_id FROM runs")]
    from conveyor.stores.artifacts import open_artifact_store

    store = open_store(f"sqlite:///{db}")
    try:
        for run_id in run_ids:
            problems = check_run_integrity(store, open_artifact_store(str(home / "artifacts")), run_id)
            assert not [p for p in problems if not any(t in p for t in tampered)], (run_id, problems)
    finally:
        store.close()


@pytest.mark.parametrize(("args", "code", "fragments"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input(args, code, fragments, workspace, tmp_path, request):
    home = tmp_path / "home"
    case = request.node.callspec.id
    if case == "home-is-a-file":
        home = workspace / "ok.py"
    elif case == "artifact-corrupted":
        _corrupt_a_stored_artifact(workspace, home)
    res = run_cli(*args, home=home, cwd=workspace, timeout=60)
    text = re.sub(r"\s+", " ", res.text)
    assert res.code == code, res.text
    missing = [f for f in fragments if f not in text]
    assert not missing, f"message lacks {missing}: {res.text}"
    assert "Traceback" not in res.text, res.text
    assert not any(s in res.text for s in SECRETS), f"a secret leaked: {res.text}"
    if code == 2:
        assert len(res.err.strip().splitlines()) <= 3 and res.err.lstrip().startswith(("error:", "Usage:")), res.err
    if home.is_dir():  # the corrupted case: only the bytes the test itself changed may fail to verify
        _check_no_partial_state(home, ("data of make", "of completed task make") if case == "artifact-corrupted" else ())


def test_debug_shows_the_traceback_that_the_plain_line_hides(workspace, tmp_path):
    res = run_cli("--debug", "run", "raises.py", home=tmp_path / "home", cwd=workspace)
    assert res.code != 0 and "Traceback" in res.text and "config server unreachable" in res.text


# -- stack configs: every validation rule of components/config.py -------------------------------------

def _stack(**changes):
    data = {**F.STACK_BASE, **changes}
    return {k: v for k, v in data.items() if v is not None}


def _pool(**changes):
    return [{**F.POOL, **changes}]


PROD = {"environment": "prod"}
STACK_CASES = [
    ("unknown-environment", _stack(environment="qa"), ["conveyor:environment", "'dev', 'staging' or 'prod'"]),
    ("unknown-cloud", _stack(cloud="azure"), ["conveyor:cloud", "'aws', 'gcp' or 'existing'"]),
    ("unknown-key", _stack(colour="blue"), ["conveyor:colour", "Extra inputs are not permitted"]),
    ("no-teams", _stack(teams=[]), ["conveyor:teams", "at least 1 item"]),
    ("region-not-aws", _stack(region="europe-west1"), ["conveyor:region: 'europe-west1' is not a aws region"]),
    ("gcp-without-project", _stack(cloud="gcp", region="us-central1"), ["conveyor:gcp_project", "cloud='gcp'"]),
    ("bad-stack-name", _stack(name="Conveyor_Prod"), ["conveyor:name", "'Conveyor_Prod' is not a DNS label"]),
    ("bad-team-name", _stack(teams=[{"name": "Team A"}]), ["conveyor:teams[0].name", "not a DNS label"]),
    ("team-gpu-quota", _stack(teams=[{"name": "a", "gpu_quota": 1000}]), ["conveyor:teams[0].gpu_quota", "512"]),
    ("duplicate-teams", _stack(teams=[{"name": "a"}, {"name": "a"}]), ["conveyor:teams: duplicate team names"]),
    ("unknown-default-team", _stack(default_team="zz"), ["conveyor:default_team: 'zz' is not a team"]),
    ("duplicate-pools", _stack(gpu_pools=_pool() * 2), ["conveyor:gpu_pools: duplicate pool names"]),
    ("pool-fallback-name-clash", _stack(gpu_pools=[F.POOL, {**F.POOL, "name": "gpu-a10g-ondemand"}]), ["duplicate pool names"]),
    ("accelerator-not-offered", _stack(gpu_pools=_pool(accelerator="nvidia-tpu")), ["gpu_pools[0].accelerator: 'nvidia-tpu' is not offered on aws"]),
    ("unknown-instance-type", _stack(gpu_pools=_pool(instance_type="m9.huge")), ["gpu_pools[0].instance_type: 'm9.huge' is unknown on aws"]),
    ("instance-without-gpu", _stack(gpu_pools=_pool(instance_type="m6i.xlarge")), ["gpu_pools[0].instance_type: 'm6i.xlarge' has no nvidia-a10g"]),
    ("too-many-gpus-per-node", _stack(gpu_pools=_pool(instance_type="g5.xlarge", gpus_per_node=4)), ["gpu_pools[0].gpus_per_node: 4 exceeds"]),
    ("pool-min-over-max", _stack(gpu_pools=_pool(min_nodes=5, max_nodes=2)), ["conveyor:gpu_pools[0]", "min_nodes=5 is greater than max_nodes=2"]),
    ("system-pool-min-over-max", _stack(system_pool={"min_nodes": 4, "max_nodes": 2}), ["conveyor:system_pool", "min_nodes=4"]),
    ("bad-vpc-cidr", _stack(network={"vpc_cidr": "10.0.0.0/33"}), ["conveyor:network.vpc_cidr", "10.0.0.0/33"]),
    ("api-open-to-internet", _stack(network={"api_allowed_cidrs": ["0.0.0.0/0"]}), ["api_allowed_cidrs", "opens the API server to the internet"]),
    ("one-availability-zone", _stack(network={"availability_zones": 1}), ["conveyor:network.availability_zones", "greater than or equal to 2"]),
    ("argo-server-auth", _stack(argo={"auth_mode": "server"}), ["conveyor:argo.auth_mode", "allowed: 'client', 'sso'"]),
    ("argo-sso-without-issuer", _stack(argo={"auth_mode": "sso"}), ["conveyor:argo", "needs sso_issuer"]),
    ("external-store-without-endpoint", _stack(cloud="existing", object_store={"mode": "external"}), ["object_store.endpoint", "mode='external'"]),
    ("object-store-short-transition", _stack(object_store={"transition_after_days": 7}), ["conveyor:object_store.transition_after_days", "30"]),
    ("db-retention-over-35", _stack(database={"backup_retention_days": 60}), ["conveyor:database.backup_retention_days", "35"]),
    ("prod-spot-without-fallback", _stack(**PROD, gpu_pools=_pool(fallback=False)), ["gpu_pools[0].fallback: False on spot pool 'gpu-a10g' is not allowed in prod"]),
    ("prod-force-destroy", _stack(**PROD, object_store={"force_destroy": True}), ["object_store.force_destroy: True is not allowed in prod"]),
    ("prod-short-backups", _stack(**PROD, database={"backup_retention_days": 7}), ["database.backup_retention_days: 7 is below the prod minimum"]),
    ("prod-no-ha", _stack(**PROD, database={"high_availability": False}), ["database.high_availability: False is not allowed in prod"]),
    ("prod-no-deletion-protection", _stack(**PROD, database={"deletion_protection": False}), ["database.deletion_protection: False"]),
]


@pytest.mark.parametrize(("config", "fragments"), [c[1:] for c in STACK_CASES], ids=[c[0] for c in STACK_CASES])
def test_stack_config_rule(config, fragments):
    from components.config import ConfigError, StackConfig

    with pytest.raises(ConfigError) as info:
        StackConfig.parse(config)
    text = str(info.value)
    missing = [f for f in fragments if f not in text]
    assert not missing, f"message lacks {missing}: {text}"
    assert all(p.startswith("conveyor:") for p in info.value.problems), info.value.problems
