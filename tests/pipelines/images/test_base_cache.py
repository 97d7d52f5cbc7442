"""The base rootfs cache under concurrent builds: one bootstrap, every caller gets its tarball.

CI builds the e2e task image in the background while ``make test`` builds its own image; both
need the same base, and two debootstraps racing on one partial tarball would corrupt it.
"""

from __future__ import annotations

import json
import threading
import time

from conveyor.images import base


def test_concurrent_builds_share_one_bootstrap(tmp_path, monkeypatch):
    calls = []

    def fake_bootstrap(root, suite, packages, mirror):
        calls.append(root)
        time.sleep(0.3)  # long enough that the second caller arrives while the first is still working
        (root / "rootfs.tar").write_bytes(b"tar")
        (root / "base.json").write_text(json.dumps({"python_version": "3.11"}))
        return base.BaseRootfs(suite, packages, mirror, root / "rootfs.tar", "3.11", 0.3)

    monkeypatch.setattr(base, "_bootstrap", fake_bootstrap)
    results = []
    threads = [threading.Thread(target=lambda: results.append(base.build_base(cache=tmp_path))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(results) == 3 and {r.tarball for r in results} == {calls[0] / "rootfs.tar"}
    assert sorted(r.seconds for r in results) == [0.0, 0.0, 0.3]  # two came from the cache
