"""LocalArtifactStore specifics: zero-copy hard links, read-only blobs, crash atomicity, scheme dispatch."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import stat
import time

import pytest

from conveyor.stores.artifacts import (
    ArtifactStoreError,
    LocalArtifactStore,
    open_artifact_store,
)
from conveyor.stores.artifacts import local as local_mod


@pytest.fixture
def store(tmp_path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "cas")


def test_put_and_materialize_share_one_inode_and_blobs_are_read_only(store, tmp_path):
    src = tmp_path / "model.bin"
    src.write_bytes(b"x" * 4096)
    stored = store.put(src)
    blob = store._locate(stored.uri)[0]
    dest = store.materialize(stored.uri, tmp_path / "task2" / "model.bin")
    assert os.stat(dest).st_ino == os.stat(blob).st_ino == os.stat(src).st_ino  # no byte was copied
    assert stat.S_IMODE(os.stat(blob).st_mode) & 0o222 == 0


def test_putting_the_same_content_repairs_a_blob_damaged_on_disk(store, tmp_path):
    """A recompute of identical bytes must not keep a blob whose bytes rotted on disk."""
    first = tmp_path / "a.bin"
    first.write_bytes(b"good" * 1024)
    stored = store.put(first)
    blob = store._locate(stored.uri)[0]
    os.chmod(blob, 0o644)
    blob.write_bytes(b"evil" * 1024)  # same size, other bytes (the hard-linked source rots with it)
    assert not store.verify(stored.uri, stored.digest, deep=True)
    again = tmp_path / "b.bin"
    again.write_bytes(b"good" * 1024)
    assert store.put(again).uri == stored.uri
    assert store.verify(stored.uri, stored.digest, deep=True)


def test_tree_materialize_links_every_file(store, tmp_path):
    src = tmp_path / "tree"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text("a")
    (src / "b.txt").write_text("b")
    out = store.materialize(store.put(src).uri, tmp_path / "out")
    assert os.stat(out / "sub" / "a.txt").st_ino == os.stat(src / "sub" / "a.txt").st_ino


def test_falls_back_to_copy_when_links_are_refused(store, tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(local_mod.os, "link", no_links)
    src = tmp_path / "f"
    src.write_bytes(b"copied")
    stored = store.put(src)
    dest = store.materialize(stored.uri, tmp_path / "dest")
    assert dest.read_bytes() == b"copied" and os.stat(dest).st_ino != os.stat(src).st_ino
    assert store.verify(stored.uri, stored.digest, deep=True)


def test_a_put_that_fails_before_the_rename_leaves_nothing(store, tmp_path, monkeypatch):
    def crash(*args):
        raise OSError(errno.EIO, "I/O error")

    src = tmp_path / "f"
    src.write_bytes(b"bytes")
    monkeypatch.setattr(local_mod.os, "replace", crash)
    with pytest.raises(ArtifactStoreError, match=f"cannot store {src} in .*I/O error"):
        store.put(src)
    monkeypatch.undo()
    assert [p for p in (store.path / "blobs").rglob("*") if p.is_file()] == []
    assert list((store.path / "tmp").iterdir()) == []


def _put_forever(root: str, src: str) -> None:
    LocalArtifactStore(root).put(src)


def test_killed_tree_put_leaves_no_complete_looking_tree(store, tmp_path):
    src = tmp_path / "many"
    src.mkdir()
    for i in range(600):
        (src / f"part-{i:05d}.txt").write_bytes(f"row {i}\n".encode() * 50)
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_put_forever, args=(store.root, str(src)))
    child.start()
    blobs = store.path / "blobs" / "sha256"
    deadline = time.monotonic() + 30
    while not (blobs.exists() and len(os.listdir(blobs)) >= 10) and time.monotonic() < deadline:
        time.sleep(0.002)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    from conveyor.stores.artifacts import digest_path

    digest, _, _ = digest_path(src)
    uri = store.uri_for(digest, is_dir=True)
    assert 10 <= len(os.listdir(blobs)) < 600, "the kill should land mid-put"
    assert not store.exists(uri) and not store.verify(uri, digest)
    assert store.put(src).uri == uri  # a retry completes it
    assert store.verify(uri, digest, deep=True)


def test_clean_staging_removes_only_old_leftovers(store):
    old = store.path / "tmp" / "dead.partial"
    old.write_bytes(b"half")
    assert store.clean_staging(older_than_s=3600) == 0
    assert store.clean_staging(older_than_s=0) == 1 and not old.exists()


def test_open_artifact_store_dispatches_on_scheme(tmp_path, monkeypatch):
    monkeypatch.setenv("CONVEYOR_HOME", str(tmp_path / "home"))
    assert open_artifact_store().root == str(tmp_path / "home" / "artifacts")
    assert open_artifact_store(f"file://{tmp_path}/x").root == str(tmp_path / "x")
    assert isinstance(open_artifact_store(str(tmp_path / "y")), LocalArtifactStore)
    with pytest.raises(ArtifactStoreError, match="unsupported scheme 'azure'"):
        open_artifact_store("azure://container/prefix")
    with pytest.raises(ArtifactStoreError, match="is not a s3://BUCKET"):
        open_artifact_store("s3:///no-bucket")


def test_unusable_root_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ArtifactStoreError, match=f"cannot create artifact store at {blocker}/cas"):
        LocalArtifactStore(blocker / "cas")
