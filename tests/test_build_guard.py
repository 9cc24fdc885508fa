"""`policybot build` refuses to switch to a text that looks cut off or emptied (index/guard.py):
no contact address, no revision date, or a large share of the live clauses gone. The live
generation stays, so a running bot (bot/reload.py follows CURRENT) keeps its index; the
maintainer can still switch on purpose with --accept-removals.

The texts are derived from tests/fixtures/policies/base.txt by cutting or deleting parts of
it, so the tests do not depend on the wording of the real policy.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.reload import SearcherHolder
from index import store
from index.build import build
from index.guard import ACCEPT_FLAG, REMOVED_SHARE_LIMIT
from index.policy import parse
from tests.cli_support import assert_one_clear_line, run, run_policybot

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
BASE = FIXTURES / "base.txt"
_HEADING = re.compile(r"^第\s*\d+\s*条")
_ITEM = re.compile(r"^\s*-\s*\(\d+\)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def cut_mid_article(text: str, fraction: float) -> str:
    """The text up to the middle of the first body line of the article `fraction` of the way in."""
    lines = text.splitlines(keepends=True)
    headings = [i for i, line in enumerate(lines) if _HEADING.match(line)]
    heading = headings[int(len(headings) * fraction)]
    first = next(i for i in range(heading + 1, len(lines)) if lines[i].strip())  # blank lines may separate
    body = lines[first]
    return "".join(lines[:first]) + body[: len(body) // 2]


def without_items(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not _ITEM.match(line))


def without_dates(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not re.search(r"\d{4}\s*年", line)
                   or _HEADING.match(line))


def without_email(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not _EMAIL.search(line))


@pytest.fixture(scope="module")
def base_template(tmp_path_factory, fake_model) -> Path:
    directory = tmp_path_factory.mktemp("guard") / "index"
    build(BASE, directory, fake_model.embedder.name, embedder=fake_model.embedder,
          aux_encoder=fake_model.aux_encoder)
    return directory


@pytest.fixture()
def index(base_template, tmp_path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(base_template, copy)
    return copy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "privacy_policy.txt"
    path.write_text(text, encoding="utf-8")
    return path


def state(index: Path) -> tuple[str, list[str]]:
    return (index / "CURRENT").read_text(encoding="utf-8"), sorted(p.name for p in index.iterdir())


def test_the_derived_texts_are_what_the_tests_claim():
    base = parse(BASE.read_text(encoding="utf-8"))
    truncated = parse(cut_mid_article(BASE.read_text(encoding="utf-8"), 0.5))
    assert base.contact_email and base.revision_date
    assert truncated.contact_email is None and truncated.revision_date is None
    assert len(truncated.clauses()) < len(base.clauses())
    itemless = parse(without_items(BASE.read_text(encoding="utf-8")))
    assert itemless.contact_email == base.contact_email and itemless.revision_date == base.revision_date
    kept = {c.id for c in itemless.clauses()}
    assert sum(c.id not in kept for c in base.clauses()) > REMOVED_SHARE_LIMIT * len(base.clauses())


def test_a_policy_cut_off_mid_article_is_refused_and_the_running_bot_keeps_its_index(
        cli, capsys, index, tmp_path, embedder, aux_encoder):
    holder = SearcherHolder(index, store.load_searcher(index, embedder=embedder, aux_encoder=aux_encoder), interval=0)
    before = state(index)
    truncated = write(tmp_path, cut_mid_article(BASE.read_text(encoding="utf-8"), 0.5))

    code, _, err = run(capsys, "build", "--policy", str(truncated), "--index", str(index), "-q")
    assert code == 2
    assert_one_clear_line(err, "contact e-mail address", "revision date", "removes", ACCEPT_FLAG)
    assert state(index) == before
    assert holder.check() is False and holder.get().facts.contact_email == parse(BASE.read_text()).contact_email

    code, out, err = run(capsys, "build", "--policy", str(truncated), "--index", str(index), "-q", ACCEPT_FLAG)
    assert code == 0, err
    assert holder.check() is True  # switched on purpose: the running bot follows
    assert holder.get().facts.contact_email is None


@pytest.mark.parametrize("derive, needle", [
    (without_email, "contact e-mail address"),
    (without_dates, "revision date"),
    (without_items, "removes"),
])
def test_each_loss_alone_is_refused(cli, capsys, index, tmp_path, derive, needle):
    before = state(index)
    policy = write(tmp_path, derive(BASE.read_text(encoding="utf-8")))
    code, _, err = run(capsys, "build", "--policy", str(policy), "--index", str(index), "-q")
    assert code == 2
    assert_one_clear_line(err, needle, ACCEPT_FLAG)
    assert state(index) == before


def test_an_ordinary_revision_that_drops_one_article_goes_through(cli, capsys, index):
    code, out, err = run(capsys, "build", "--policy", str(FIXTURES / "dropped_article.txt"), "--index", str(index),
                         "-q")
    assert code == 0, err
    assert store.read_manifest(index)["policy_sha256"] == parse(
        (FIXTURES / "dropped_article.txt").read_text(encoding="utf-8")).sha256


def test_the_console_script_refuses_without_a_traceback(index, tmp_path):
    truncated = write(tmp_path, cut_mid_article(BASE.read_text(encoding="utf-8"), 0.7))
    before = state(index)
    done = run_policybot("build", "--policy", str(truncated), "--index", str(index), cwd=tmp_path, env={})
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, ACCEPT_FLAG)
    assert state(index) == before
