"""``python -m tests.cluster build|prebuild|up|down|status``: the harness for people (``make cluster-up``).

The same ``harness.up``/``harness.down`` the pytest fixture uses; ``up`` leaves the
cluster running and prints how to reach it, ``down`` stops it and cleans the host; ``prebuild``
builds everything ``make e2e`` needs (CI runs it in the background, ``prebuild.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tests.cluster import build, harness, images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__)
    parser.add_argument("command", choices=["build", "prebuild", "up", "down", "status"])
    args = parser.parse_args(argv)
    if args.command == "prebuild":
        from tests.cluster import prebuild

        return prebuild.main()
    try:
        if args.command == "build":
            t0 = time.monotonic()
            bins = harness.build_all()
            archives = [str(images.pause_archive()), str(images.busybox_archive())]
            print(json.dumps({"binaries": {k: str(v) for k, v in bins.items()}, "images": archives,
                              "seconds": round(time.monotonic() - t0, 1)}, indent=2))
        elif args.command == "up":
            info = harness.up()
            print(json.dumps(info.__dict__, indent=2))
            print(f"\nexport KUBECONFIG={info.kubeconfig}\n(stop it with `make cluster-down`)", file=sys.stderr)
        elif args.command == "down":
            result = harness.down()
            print(json.dumps(result))
            if result.get("leftovers"):
                print(f"error: teardown left these behind: {result['leftovers']}", file=sys.stderr)
                return 1
        else:
            info = harness.running()
            print(json.dumps(info.__dict__ if info else {"running": False}, indent=2))
            return 0 if info else 1
    except (build.BuildError, harness.StartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
