"""ArtifactStore contract, run over every implementation: local CAS, S3 (moto server), GCS (emulator)."""

from __future__ import annotations

import hashlib
import os

import pytest

from conveyor.stores.artifacts import (
    ArtifactNotFoundError,
    ArtifactStoreError,
    DigestMismatchError,
    LocalArtifactStore,
    digest_path,
)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_tree(root, files: dict[str, bytes]):
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


TREE = {"model.pkl": b"weights", "conf/params.json": b'{"lr": 0.1}', "conf/deep/empty.txt": b""}


def corrupt(store, uri: str, data: bytes) -> None:
    """Replace the stored bytes behind `uri` while keeping its name and recorded digest (bit rot, tampering)."""
    if isinstance(store, LocalArtifactStore):
        path = store._locate(uri)[0]
        os.chmod(path, 0o644)
        path.write_bytes(data)
        return
    key, hexd, _ = store._locate(uri)
    store._upload_bytes(data, key, hexd)


def test_put_file_is_content_addressed(artifact_store, tmp_path):
    src = tmp_path / "data.csv"
    src.write_bytes(b"a,b\n1,2\n")
    stored = artifact_store.put(src)
    assert stored.digest == sha(b"a,b\n1,2\n") and stored.size == 8 and not stored.is_dir
    assert stored.uri == artifact_store.uri_for(stored.digest)
    assert stored.uri.startswith(artifact_store.root.rstrip("/") if "://" in artifact_store.root else "file://")
    assert artifact_store.exists(stored.uri)
    assert artifact_store.stat(stored.uri) == stored
    assert digest_path(src) == (stored.digest, 8, False)


def test_same_bytes_same_uri_different_bytes_different_uri(artifact_store, tmp_path):
    (tmp_path / "a").write_bytes(b"same")
    (tmp_path / "b").write_bytes(b"same")
    (tmp_path / "c").write_bytes(b"other")
    a, b, c = (artifact_store.put(tmp_path / n) for n in "abc")
    assert a == b and a.uri != c.uri


def test_materialize_file_gives_back_the_bytes(artifact_store, tmp_path):
    src = tmp_path / "m.bin"
    src.write_bytes(os.urandom(300_000))
    stored = artifact_store.put(src)
    dest = tmp_path / "task" / "inputs" / "model"
    assert artifact_store.materialize(stored.uri, dest) == dest
    assert dest.read_bytes() == src.read_bytes()
    artifact_store.materialize(stored.uri, dest)  # an existing destination is replaced, not an error
    assert dest.read_bytes() == src.read_bytes()


def test_directory_round_trip_and_stable_digest(artifact_store, tmp_path):
    first = make_tree(tmp_path / "one", TREE)
    second = make_tree(tmp_path / "two", dict(reversed(list(TREE.items()))))  # other creation order
    a, b = artifact_store.put(first), artifact_store.put(second)
    assert a == b and a.is_dir and a.size == sum(len(v) for v in TREE.values())
    assert digest_path(first) == (a.digest, a.size, True)
    assert artifact_store.stat(a.uri) == a
    out = artifact_store.materialize(a.uri, tmp_path / "out")
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == TREE
    (second / "model.pkl").write_bytes(b"other weights")
    assert artifact_store.put(second).digest != a.digest


def test_verify(artifact_store, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"payload")
    stored = artifact_store.put(src)
    tree = artifact_store.put(make_tree(tmp_path / "t", TREE))
    assert artifact_store.verify(stored.uri, stored.digest)
    assert artifact_store.verify(stored.uri, stored.digest, deep=True)
    assert artifact_store.verify(tree.uri, tree.digest, deep=True)
    assert not artifact_store.verify(stored.uri, sha(b"something else"))


def test_deleted_artifact_never_verifies(artifact_store, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"payload")
    stored = artifact_store.put(src)
    assert artifact_store.delete(stored.uri)
    assert not artifact_store.delete(stored.uri)
    assert not artifact_store.exists(stored.uri) and artifact_store.stat(stored.uri) is None
    assert not artifact_store.verify(stored.uri, stored.digest)
    with pytest.raises(ArtifactNotFoundError, match="does not exist"):
        artifact_store.materialize(stored.uri, tmp_path / "dest")


def test_tree_with_a_missing_file_does_not_verify(artifact_store, tmp_path):
    tree = artifact_store.put(make_tree(tmp_path / "t", TREE))
    artifact_store.delete(artifact_store.uri_for(sha(b"weights")))
    assert not artifact_store.verify(tree.uri, tree.digest)


def test_corruption_is_caught_by_deep_verify(artifact_store, tmp_path):
    src = tmp_path / "f"
    src.write_bytes(b"the real bytes")
    stored = artifact_store.put(src)
    corrupt(artifact_store, stored.uri, b"the rotten bytes")
    assert not artifact_store.verify(stored.uri, stored.digest, deep=True)


def test_remote_materialize_refuses_corrupt_bytes(artifact_store, tmp_path):
    if isinstance(artifact_store, LocalArtifactStore):
        pytest.skip("local materialize hard-links; deep verify is the local check")
    src = tmp_path / "f"
    src.write_bytes(b"the real bytes")
    stored = artifact_store.put(src)
    corrupt(artifact_store, stored.uri, b"the rotten bytes")
    with pytest.raises(DigestMismatchError, match="is corrupt"):
        artifact_store.materialize(stored.uri, tmp_path / "dest")
    assert not (tmp_path / "dest").exists() and not list(tmp_path.glob(".dest*"))


def test_bad_inputs_are_named(artifact_store, tmp_path):
    with pytest.raises(ArtifactStoreError, match="does not exist"):
        artifact_store.put(tmp_path / "missing")
    tree = make_tree(tmp_path / "t", {"a": b"1"})
    (tree / "link").symlink_to(tree / "a")
    with pytest.raises(ArtifactStoreError, match="contains a symlink"):
        artifact_store.put(tree)
    with pytest.raises(ArtifactStoreError, match="is not inside the artifact store"):
        artifact_store.verify("s3://elsewhere/blobs/sha256/" + "0" * 64, "sha256:" + "0" * 64)
    with pytest.raises(ArtifactStoreError, match="not a content-addressed artifact URI"):
        artifact_store.exists(artifact_store.uri_for(sha(b"x")).replace("blobs/sha256", "blobs/md5"))
    with pytest.raises(ArtifactStoreError, match="not of the form sha256"):
        artifact_store.uri_for("md5:abc")
