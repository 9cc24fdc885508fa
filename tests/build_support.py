"""Building test indexes the way `policybot build` does, on the session's models."""
from __future__ import annotations

from pathlib import Path

from bot.calibration import calibration_stamp
from index import store
from index.build import BuildReport, build


def build_like_cli(policy: Path, index_dir: Path, embedder, aux_encoder, **options) -> BuildReport:
    """The build pipeline with the shipped calibration, as `policybot build` runs it: a later
    `policybot build` of the same text finds the index up to date."""
    return build(policy, index_dir, embedder.name, embedder=embedder, aux_encoder=aux_encoder,
                 calibration=calibration_stamp().to_json(), **options)


def use_session_models(monkeypatch, embedder, aux_encoder) -> None:
    """Make an in-process `policybot build` embed with the session's models instead of loading its own."""
    monkeypatch.setenv("POLICYBOT_MODEL", embedder.name)  # the default model, or the stand-in of tests/fakes.py
    real_loader = store.load_embedder
    monkeypatch.setattr(store, "load_embedder", lambda name: embedder if name == embedder.name else real_loader(name))
    monkeypatch.setattr(store, "AuxEncoder", lambda: aux_encoder)
