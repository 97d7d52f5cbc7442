"""`conveyor run` against any profile: what the CLI does, for stores the local CLI cannot name yet.

The local CLI always uses the implicit local profile (SQLite under CONVEYOR_HOME). The concurrency
suite also needs hundreds of separate runner processes on one Postgres, so this script builds a
Profile from its arguments and then takes the same path as `conveyor run --json`:

    python tests/reliability/run_driver.py METADATA_URL ARTIFACT_ROOT FILE -p NAME=VALUE ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from conveyor.executor.run import LocalRunner, RunOptions
    from conveyor.profile import Profile
    from conveyor.runtime.loader import find_pipeline
    from conveyor.runtime.protocol.binding import parse_cli_params

    parser = argparse.ArgumentParser()
    parser.add_argument("metadata_url")
    parser.add_argument("artifact_root")
    parser.add_argument("file")
    parser.add_argument("-p", dest="params", action="append", default=[])
    parser.add_argument("--parallelism", type=int, default=1)
    args = parser.parse_args(argv)
    profile = Profile(metadata_url=args.metadata_url, artifact_root=args.artifact_root)
    spec = find_pipeline(args.file).pipeline_spec
    runner = LocalRunner(profile=profile, home=Path(args.file).parent / "home")
    try:
        result = runner.run(spec, parse_cli_params(args.params), from_cli=True,
                            options=RunOptions(parallelism=args.parallelism), preload=[args.file])
    finally:
        runner.close()
    print(json.dumps(result.to_dict(), default=str))
    return 0 if result.succeeded else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
