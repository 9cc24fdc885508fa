"""Where the materialized models live, and writing files there without ever exposing half of one.

The cache location is a parameter everywhere in this package; `cache_dir_from_env` is the one
place that reads its default from the environment (POLICYBOT_CACHE_DIR, else XDG_CACHE_HOME).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def cache_dir_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """``$POLICYBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/policybot``, else ``~/.cache/policybot``."""
    env = os.environ if environ is None else environ
    root = env.get("POLICYBOT_CACHE_DIR")
    if not root:
        xdg = env.get("XDG_CACHE_HOME")
        root = os.path.join(xdg, "policybot") if xdg else os.path.join(Path.home(), ".cache", "policybot")
    return Path(root).expanduser()


def models_dir(cache_dir: Path | None = None) -> Path:
    """The ``models/`` folder of a cache directory (the environment's default when None)."""
    return (Path(cache_dir) if cache_dir is not None else cache_dir_from_env()) / "models"


def default_cache_dir() -> Path:
    """The models folder of the default cache: ``<cache_dir_from_env()>/models``."""
    return models_dir()


def file_version(path: Path, *, name: str | None = None) -> str:
    """A short key for one version of `path` (its name or `name`, size and mtime): a cached copy
    derived from the file is named by it, so a reinstalled or rewritten file gets a new copy
    without hashing its content on every start."""
    stat = path.stat()
    label = name if name is not None else str(path.resolve())
    return hashlib.sha256(f"{label}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` through a temporary sibling and a rename: readers see all of it or nothing."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
