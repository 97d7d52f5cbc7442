"""The files the bad-input catalogue feeds to conveyor: one small broken thing each.

Kept apart from the table so that each catalogue row stays one line. `ok.py` is the well-formed
baseline the CLI-parameter and webhook rows reuse; `chain.py` stores an artifact that a row corrupts.
"""

from __future__ import annotations

import json

H = "from conveyor import dsl\nfrom conveyor.dsl import Dataset, Input, Output\n\n"
ADD = "@dsl.component\ndef add(a: int, b: int = 1) -> int:\n    return a + b\n\n"

FILES: dict[str, str] = {
    "ok.py": H + ADD + "@dsl.pipeline(name='ok')\ndef ok(n: int, items: list = [1], ratio: float = 0.5, flag: bool = False) -> int:\n    return add(a=n).output\n",
    "syntax.py": H + "@dsl.component\ndef add(a: int) -> int\n    return a\n",
    "cycle.py": H + ADD + "@dsl.pipeline(name='cyc')\ndef cyc() -> int:\n    a = add(a=1)\n    b = add(a=a.output)\n    a.after(b)\n    return b.output\n",
    "type_mismatch.py": H + ADD + "@dsl.component\ndef name() -> str:\n    return 'x'\n\n@dsl.pipeline(name='tm')\ndef tm() -> int:\n    return add(a=name().output).output\n",
    "bad_output.py": H + "@dsl.component\ndef make(data: Output[Dataset]) -> int:\n    return 1\n\n" + ADD + "@dsl.pipeline(name='bo')\ndef bo() -> int:\n    return add(a=make().outputs['result']).output\n",
    "unknown_arg.py": H + ADD + "@dsl.pipeline(name='ua')\ndef ua() -> int:\n    return add(a=1, bogus=2).output\n",
    "missing_arg.py": H + ADD + "@dsl.pipeline(name='ma')\ndef ma() -> int:\n    return add(b=1).output\n",
    "untyped.py": H + "@dsl.component\ndef add(a) -> int:\n    return a\n\n@dsl.pipeline(name='ut')\ndef ut() -> int:\n    return add(a=1).output\n",
    "no_pipeline.py": "x = 1\n",
    "two_pipelines.py": H + ADD + "@dsl.pipeline(name='one')\ndef one() -> int:\n    return add(a=1).output\n\n@dsl.pipeline(name='two')\ndef two() -> int:\n    return add(a=2).output\n",
    "import_error.py": "import sklearn_but_misspelled\n",
    "raises.py": "raise RuntimeError('config server unreachable')\n",
    "outside.py": H + ADD + "add(a=1)\n",
    "bad_retry.py": H + ADD + "@dsl.pipeline(name='br')\ndef br() -> int:\n    return add(a=1).set_retry(-1).output\n",
    "bad_memory.py": H + ADD + "@dsl.pipeline(name='bm')\ndef bm() -> int:\n    return add(a=1).set_memory_limit('lots').output\n",
    "non_serialisable.py": H + "@dsl.component\ndef weird() -> dict:\n    return {'when': object()}\n\n@dsl.pipeline(name='ns')\ndef ns() -> dict:\n    return weird().output\n",
    "wrong_return.py": H + "@dsl.component\ndef count() -> int:\n    return 'many'\n\n@dsl.pipeline(name='wr')\ndef wr() -> int:\n    return count().output\n",
    "unwritten_artifact.py": H + "@dsl.component\ndef make(data: Output[Dataset]):\n    pass\n\n@dsl.pipeline(name='uw')\ndef uw():\n    make()\n",
    "chain.py": H + "@dsl.component\ndef make(data: Output[Dataset]):\n    open(data.path, 'w').write('1 2 3')\n\n"
                "@dsl.component\ndef total(data: Input[Dataset], k: int) -> int:\n    return k * sum(int(x) for x in open(data.path).read().split())\n\n"
                "@dsl.pipeline(name='chain')\ndef chain(k: int = 1) -> int:\n    return total(data=make().outputs['data'], k=k).output\n",
}

PROFILE = {"cloud": "aws", "region": "us-east-1", "environment": "dev", "artifact_root": "s3://bucket/runs",
           "metadata_url": "postgresql://conveyor:pw@db.internal:5432/conveyor"}


def profile(**changes) -> str:
    data = {**PROFILE, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not None})


PROFILES: dict[str, str] = {
    "no_artifact_root.json": profile(artifact_root=None),
    "no_metadata_url.json": profile(metadata_url=None),
    "http_artifact_root.json": profile(artifact_root="http://bucket/runs"),
    "mysql_metadata.json": profile(metadata_url="mysql://u:hunter2@db/conveyor"),
    "bad_fallback.json": profile(gpu_pools=[{"name": "a10g", "accelerator": "nvidia-a10g", "capacity": "spot",
                                             "fallback": "a10g-od"}]),
    "not_json.json": "{profile: yes",
    "closed_port.json": profile(metadata_url="postgresql://conveyor:hunter2@127.0.0.1:{closed_port}/conveyor"),
}

# StackConfig: one base per cloud, each row changes what one validation rule checks.
STACK_BASE = {"environment": "dev", "cloud": "aws", "region": "us-east-1", "teams": [{"name": "team-a"}]}
POOL = {"name": "gpu-a10g", "accelerator": "nvidia-a10g"}
