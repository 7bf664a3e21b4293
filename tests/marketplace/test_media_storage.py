"""MediaStore: content-addressed, idempotent, atomic, and closed to path tricks."""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import replace
from functools import partial

import numpy as np
import pytest

from marketplace_core.media import (
    InvalidMediaKey,
    MediaNotFound,
    MediaStore,
    NormalisedImage,
    inspect_and_normalise,
    storage,
)
from marketplace_core.media import synthetic as s
from tests.concurrency import run_in_threads


@pytest.fixture(scope="module")
def image() -> NormalisedImage:
    return inspect_and_normalise(s.jpeg(np.random.default_rng(5), 320, 240))


@pytest.fixture
def store(tmp_path) -> MediaStore:
    return MediaStore(str(tmp_path / "media"))


def stored_files(store: MediaStore) -> list[str]:
    return sorted(str(path.relative_to(store.root)) for path in store.root.rglob("*")
                  if path.is_file())


def test_save_stores_the_bytes_under_their_hash(store, image):
    key = store.save(image)
    assert key == image.sha256 == hashlib.sha256(image.data).hexdigest()
    assert stored_files(store) == [f"photos/{key[:2]}/{key[2:4]}/{key}.jpg"]
    assert store.path(key) == store.root / "photos" / key[:2] / key[2:4] / f"{key}.jpg"
    with store.open(key) as stream:
        assert stream.read() == image.data
    assert store.exists(key)


def test_stored_files_are_readable_by_other_processes(store, image):
    mode = stat.S_IMODE(store.path(store.save(image)).stat().st_mode)
    assert mode == 0o644


def test_saving_the_same_content_again_writes_nothing(store, image, monkeypatch):
    key = store.save(image)
    before = store.path(key).stat()

    def must_not_write(*args):
        raise AssertionError("an identical photo was written twice")
    monkeypatch.setattr(storage, "_write_atomically", must_not_write)
    assert store.save(image) == key
    assert store.save(replace(image, source_format="PNG")) == key  # only the bytes count
    after = store.path(key).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert len(stored_files(store)) == 1


def test_a_damaged_copy_is_rewritten(store, image):
    key = store.save(image)
    store.path(key).write_bytes(image.data[:100])
    store.save(image)
    assert store.path(key).read_bytes() == image.data


def test_concurrent_saves_of_one_photo_agree(store, image):
    keys, errors = run_in_threads([partial(store.save, image)] * 8)
    assert errors == [] and set(keys) == {image.sha256}
    assert stored_files(store) == [str(store.path(image.sha256).relative_to(store.root))]


def test_save_writes_a_synced_temporary_file_in_the_same_directory(store, image, monkeypatch):
    calls = {"fsync": 0, "replace": []}
    real_fsync, real_replace = os.fsync, os.replace

    def counting_fsync(descriptor):
        calls["fsync"] += 1
        real_fsync(descriptor)

    def recording_replace(source, target):
        calls["replace"].append((source, target))
        real_replace(source, target)
    monkeypatch.setattr(storage.os, "fsync", counting_fsync)
    monkeypatch.setattr(storage.os, "replace", recording_replace)
    key = store.save(image)
    [(source, target)] = calls["replace"]
    assert os.path.dirname(source) == os.path.dirname(target) == str(store.path(key).parent)
    assert calls["fsync"] >= 2  # the file, then its directory


def test_a_failed_save_leaves_no_file_behind(store, image, monkeypatch):
    def crash(source, target):
        raise OSError("disk full")
    monkeypatch.setattr(storage.os, "replace", crash)
    with pytest.raises(OSError):
        store.save(image)
    assert not store.exists(image.sha256)
    assert stored_files(store) == []  # no temporary file either


def test_an_image_whose_hash_does_not_match_its_bytes_is_refused(store, image):
    with pytest.raises(ValueError):
        store.save(replace(image, sha256="0" * 64))
    assert stored_files(store) == []


def test_delete_removes_and_reports(store, image):
    key = store.save(image)
    assert store.delete(key) is True
    assert not store.exists(key)
    assert store.delete(key) is False  # retried deletes are harmless


def test_open_of_a_missing_photo_is_not_found(store):
    with pytest.raises(MediaNotFound):
        store.open("a" * 64)


@pytest.mark.parametrize("key", [
    "../x", "..", "/etc/passwd", "", "a" * 63, "a" * 65, "A" * 64, "g" * 64,
    "../" + "a" * 61, "/" + "a" * 63, "a" * 64 + "\n", "a" * 32 + "/" + "a" * 31,
    "a" * 62 + "..", "\u0663" * 64, "a" * 63 + "\0", " " + "a" * 63, None, 123, b"a" * 64,
])
def test_malformed_keys_are_refused_everywhere(store, key):
    for operation in (store.path, store.open, store.exists, store.delete):
        with pytest.raises(InvalidMediaKey):
            operation(key)


def test_a_traversal_key_cannot_touch_files_outside_the_store(tmp_path, image):
    store = MediaStore(tmp_path / "media")
    victim = tmp_path / "victim.jpg"
    victim.write_bytes(b"keep me")
    with pytest.raises(InvalidMediaKey):
        store.delete("../victim")
    assert victim.read_bytes() == b"keep me"
