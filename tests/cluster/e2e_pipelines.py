"""Pipelines of the e2e scenarios (``conveyor submit tests/cluster/e2e_pipelines.py:NAME``).

Every component declares the training example's packages, so every scenario pipeline names the
same task image (``<registry>/conveyor-task:<version>-<hash of the packages>``) as the example and
runs on the one image the platform fixture built and imported. Bodies import what they use
inside the function: pods run them from their source in the spec.
"""

from __future__ import annotations

import functools
from pathlib import Path

from conveyor import dsl
from conveyor import kubernetes as kube
from conveyor.prebuilt import notify
from conveyor.runtime.loader import load_module_file

TRAINING = Path(__file__).resolve().parents[2] / "pipelines" / "examples" / "training.py"
EXAMPLE_PACKAGES = load_module_file(TRAINING).EXAMPLE_PACKAGES

component = functools.partial(dsl.component, packages_to_install=EXAMPLE_PACKAGES)


@component
def make_items(n: int) -> list:
    """The dynamic fan-out's items: known only when this pod has run."""
    return list(range(1, n + 1))


@component
def square(x: int) -> int:
    return x * x


@component
def add_all(values: list) -> int:
    return int(sum(values))


@component
def nap(seconds: float, i: int) -> int:
    import time

    time.sleep(seconds)
    return i


@component
def never(flag: str) -> str:
    """Inside a false condition: a pod of this task would be a bug."""
    return flag


@dsl.pipeline(name="e2e-control-flow")
def control_flow(n: int = 3, flag: str = "no", nap_s: float = 3.0) -> int:
    items = make_items(n=n)
    with dsl.ParallelFor(items.output) as x:
        sq = square(x=x)
    total = add_all(values=dsl.Collected(sq.output))
    with dsl.ParallelFor([1, 2, 3, 4, 5], parallelism=2) as i:
        nap(seconds=nap_s, i=i)
    with dsl.If(flag == "yes", name="only-if-yes"):
        never(flag=flag)
    return total.output


@component
def fail_permanently(reason: str) -> int:
    from conveyor.dsl import PermanentError

    raise PermanentError(reason)


@dsl.pipeline(name="e2e-permanent")
def permanent(reason: str = "bad input: permanent") -> None:
    fail_permanently(reason=reason).set_retry(3, backoff_duration="1s")


@component
def flaky(bucket: str, key: str, fail_times: int) -> int:
    """Fails transiently (a plain exception) on its first ``fail_times`` attempts, counted in S3."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
    try:
        count = int(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        count = 0
    s3.put_object(Bucket=bucket, Key=key, Body=str(count + 1).encode())
    if count < fail_times:
        raise RuntimeError(f"transient failure {count + 1} of {fail_times}")
    return count + 1


@dsl.pipeline(name="e2e-transient")
def transient(bucket: str, key: str, fail_times: int = 2) -> int:
    return flaky(bucket=bucket, key=key, fail_times=fail_times).set_retry(
        3, backoff_duration="4s", backoff_factor=2).output


@component
def maybe_fail(fail: bool) -> str:
    if fail:
        raise ValueError("asked to fail")
    return "ok"


@dsl.pipeline(name="e2e-exit-handler")
def exit_handler(fail: bool = False) -> None:
    done = notify(pipeline="e2e-exit-handler", message="e2e exit handler")
    with dsl.ExitHandler(done):
        maybe_fail(fail=fail).set_retry(0)


@component
def on_gpu(seconds: float) -> str:
    import time

    time.sleep(seconds)
    return "done"


@dsl.pipeline(name="e2e-gpu")
def gpu(seconds: float = 1.0) -> str:
    return on_gpu(seconds=seconds).set_accelerator_type("nvidia-a10g").set_accelerator_limit(1).output


@component
def hello(name: str) -> str:
    return f"hello {name}"


@dsl.pipeline(name="e2e-tiny")
def tiny(name: str = "cron") -> str:
    return hello(name=name).output


@dsl.pipeline(name="e2e-bad-label")
def bad_label() -> None:
    # A label value Kubernetes rejects ("must be ... alphanumeric"): the DSL cannot know the cluster's
    # rules, the API server refuses the pod.
    kube.add_pod_label(hello(name="rejected"), "conveyor.dev/e2e", "not a valid label value!")


@dsl.pipeline(name="e2e-fanout")
def fanout(n: int = 200) -> int:
    """The benchmark's ParallelFor: ``n`` pods of one tiny task (8 at a time on the one small node),
    then one fan-in."""
    items = make_items(n=n)
    with dsl.ParallelFor(items.output, parallelism=8) as x:
        sq = square(x=x)
    return add_all(values=dsl.Collected(sq.output)).output


WORKSPACE_CLASS = "conveyor-e2e-workspace"  # the test's own PV answers claims of this class


@component
def write_note(workspace_path: str, text: str) -> str:
    import os

    with open(os.path.join(workspace_path, "note.txt"), "w") as fh:
        fh.write(text)
    return workspace_path


@component
def read_note(workspace_path: str) -> str:
    import os

    with open(os.path.join(workspace_path, "note.txt")) as fh:
        return fh.read()


@dsl.pipeline(name="e2e-workspace", pipeline_config=dsl.PipelineConfig(workspace=dsl.WorkspaceConfig(
    size="64Mi", kubernetes=dsl.KubernetesWorkspaceConfig(pvcSpecPatch={"storageClassName": WORKSPACE_CLASS}))))
def workspace(text: str = "left in the workspace") -> str:
    """Two pods, one after the other, share the run's PVC at /kfp-workspace."""
    wrote = write_note(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER, text=text)
    return read_note(workspace_path=dsl.WORKSPACE_PATH_PLACEHOLDER).after(wrote).output
