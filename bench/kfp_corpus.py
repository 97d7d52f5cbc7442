"""How many of KFP's own pipelines load and compile under conveyor with only the imports changed.

    python bench/kfp_corpus.py PATH/TO/kubeflow-pipelines [--json OUT.json] [--failures]

The anchor is real kfp in the same run: a file counts when kfp compiles at least one pipeline from it,
and conveyor passes it when, after the import swap of docs/kfp.md, it loads the file and compiles
every pipeline kfp compiled (conveyor's compiler writes the Argo Workflow). Each file runs in its own
process, once per side. The corpus is the kfp repository's test pipelines (``test_data/
sdk_compiled_pipelines/valid``: what kfp's compiler is tested on), kfp-kubernetes' snapshot pipelines
and ``samples/``; a checkout comes from ``git clone https://github.com/kubeflow/pipelines``.
A profile with an ``image_registry`` is set (``CONVEYOR_PROFILE``), as a user submitting would have.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CORPUS = ("test_data/sdk_compiled_pipelines/valid", "kubernetes_platform/python/test/snapshot/data", "samples")
SWAPS = [  # docs/kfp.md's table, as regular expressions over import lines
    (r"^(\s*)from kfp\.v2 import", r"\1from conveyor.v2 import"),
    (r"^(\s*)from kfp(\.[\w.]+)? import", r"\1from conveyor\2 import"),
    (r"^(\s*)import kfp\.(\w+) as (\w+)", r"\1import conveyor.\2 as \3"),
    (r"^(\s*)import kfp\.(\w+)$", r"\1import conveyor as kfp; import conveyor.\2"),
    (r"^(\s*)import kfp$", r"\1import conveyor as kfp"),
]


def swap(source: str) -> str:
    for pattern, repl in SWAPS:
        source = re.sub(pattern, repl, source, flags=re.M)
    return source


def probe(side: str, path: Path, out: Path) -> dict:
    """Load one file as a module (not as __main__) and compile each pipeline in it; in a child process."""
    source = path.read_text()
    if side == "conveyor":
        source = swap(source)
    copy = out / f"{side}_{path.parent.name}_{path.name}"
    copy.write_text(source)
    sys.path.insert(0, str(path.parent))
    stage = "load"
    try:
        spec = importlib.util.spec_from_file_location(f"corpus_{path.stem}", copy)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
        stage = "compile"
        if side == "kfp":
            from kfp import compiler
            from kfp.dsl.graph_component import GraphComponent as PipelineType
        else:
            from conveyor import compiler
            from conveyor.dsl.pipeline import Pipeline as PipelineType
        found = {k: v for k, v in vars(module).items() if isinstance(v, PipelineType)}
        for name, pipeline in found.items():
            compiler.Compiler().compile(pipeline, str(out / f"{copy.stem}.{name}.yaml"))
        return {"ok": True, "pipelines": sorted(found)}
    except BaseException as exc:  # the user's file may raise anything, SystemExit included
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(copy)]
        where = f"{path.name}:{frames[-1].lineno}" if frames else ""
        return {"ok": False, "stage": stage, "where": where, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def _child(side: str, path: Path, out: Path, env: dict[str, str]) -> dict:
    try:
        proc = subprocess.run([sys.executable, __file__, "--probe", side, str(path), str(out)], capture_output=True,
                              text=True, timeout=180, cwd=path.parent, env=env)
    except subprocess.TimeoutExpired:
        return {"ok": False, "stage": "timeout", "error": "over 180 s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {"ok": False, "stage": "crash", "error": proc.stderr[-300:]}


def main() -> int:
    if sys.argv[1:2] == ["--probe"]:
        print(json.dumps(probe(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--failures", action="store_true", help="print each file conveyor fails, with its error")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    files = sorted(p for d in CORPUS for p in (args.checkout / d).rglob("*.py")
                   if p.name != "__init__.py" and not p.name.endswith("_test.py") and not p.name.startswith("test_"))
    if not files:
        parser.error(f"{args.checkout}: none of {', '.join(CORPUS)} has Python files")
    with tempfile.TemporaryDirectory() as tmp:
        out, profile = Path(tmp), Path(tmp) / "profile.json"
        profile.write_text(json.dumps({"artifact_root": "s3://corpus/artifacts", "metadata_url": "sqlite:///m.db",
                                       "image_registry": "registry.example.com/team"}))
        env = {**os.environ, "CONVEYOR_PROFILE": str(profile), "CONVEYOR_HOME": str(out / "home")}

        def both(path: Path) -> dict:
            rel = str(path.relative_to(args.checkout))
            return {"file": rel, "kfp": _child("kfp", path, out, env), "conveyor": _child("conveyor", path, out, env)}

        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(both, files))
    anchor = [r for r in results if r["kfp"]["ok"] and r["kfp"]["pipelines"]]
    passed = [r for r in anchor if r["conveyor"]["ok"] and r["conveyor"]["pipelines"] == r["kfp"]["pipelines"]]
    summary = {"files": len(results), "kfp_compiles": len(anchor), "conveyor_passes": len(passed),
               "ratio": round(len(passed) / len(anchor), 3) if anchor else None}
    print(json.dumps(summary))
    if args.failures:
        for r in anchor:
            if r not in passed:
                c = r["conveyor"]
                print(f"{r['file']}: {c.get('stage')} {c.get('where', '')} {c.get('error') or c.get('pipelines')}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
