"""bot/text: every user-facing string has both languages and the same fields in each.

A missing translation or a field only one language fills would otherwise show up as a
KeyError (or a raw `{field}`) in front of a user; here it fails a test that loads no model.
"""
from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from bot import answer
from bot.handoff import compose
from bot.text.catalog import CATALOG, EXAMPLES, LANGS, OPTIONAL_FIELDS, examples, t

BOT = Path(__file__).resolve().parents[1] / "bot"


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_entry_has_both_languages_with_the_same_fields(key):
    entry = CATALOG[key]
    assert set(entry) == set(LANGS), f"{key}: languages {sorted(entry)}"
    assert all(entry[lang].strip() for lang in LANGS), f"{key}: an empty text"
    ja, en = fields(entry["ja"]), fields(entry["en"])
    optional = OPTIONAL_FIELDS.get(key, frozenset())
    assert ja - optional == en - optional, f"{key}: ja fills {sorted(ja)}, en fills {sorted(en)}"


def test_optional_fields_are_really_used_by_one_language():
    for key, optional in OPTIONAL_FIELDS.items():
        used = fields(CATALOG[key]["ja"]) | fields(CATALOG[key]["en"])
        assert optional <= used, f"{key}: {sorted(optional - used)} is in neither language"


def test_every_entry_formats_with_its_fields():
    for key, entry in CATALOG.items():
        for lang in LANGS:
            values = {name: 1234 for name in fields(entry["ja"]) | fields(entry["en"])}
            text = t(key, lang, **values)
            assert "{" not in text.replace("{{", ""), f"{key}/{lang}: {text}"


def test_examples_exist_in_both_languages():
    assert set(EXAMPLES) == set(LANGS) and all(EXAMPLES[lang] for lang in LANGS)


def test_unknown_language_reads_japanese_and_unknown_key_fails():
    assert t("slack.up", "fr") == t("slack.up", "ja") and examples(None) == EXAMPLES["ja"]
    with pytest.raises(KeyError):
        t("no.such.key", "ja")


def test_every_escalation_reason_has_a_lead():
    reasons = [value for name, value in vars(answer).items() if name.startswith("REASON_")]
    assert reasons
    for reason in reasons:
        assert f"answer.lead.{reason}" in CATALOG


def _literal_keys() -> set[str]:
    """Catalog keys named as literals in bot/: the first argument of `t(…)` and `notice_message(…)`
    (a literal, either branch of a conditional, an f-string's fixed part) and `*_KEYS` tables."""
    found = set()
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            roots = []
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("t", "notice_message") and node.args:
                roots.append(node.args[0])
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "").endswith("_KEYS") for t in node.targets) \
                    and isinstance(node.value, ast.Dict):
                roots.extend(node.value.values)
            for root in roots:
                found |= {n.value for n in ast.walk(root) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return found


def test_every_key_the_code_names_exists():
    assert {"slack.up", "notice.error", "forward.err_", "handoff.footer"} <= _literal_keys()
    fragments = {key for key in _literal_keys() if any(k.startswith(key) and k != key for k in CATALOG)}
    missing = {key for key in _literal_keys() - fragments if key not in CATALOG}
    assert not missing, f"named in bot/ but not in the catalog: {sorted(missing)}"


def test_every_handoff_error_has_a_modal_message():
    codes = [value for name, value in vars(compose).items() if name.isupper() and isinstance(value, str)
             and name in ("EMPTY_QUESTION", "QUESTION_TOO_LONG", "CONTEXT_TOO_LONG", "BAD_REPLY_TO", "NO_CONTACT",
                          "BAD_CONTACT")]
    assert len(codes) == 6
    for code in codes:
        assert f"forward.err_{code}" in CATALOG


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(owner.body[0].value) for owner in ast.walk(tree)
            if isinstance(owner, (ast.Module, ast.FunctionDef, ast.ClassDef)) and owner.body
            and isinstance(owner.body[0], ast.Expr) and isinstance(owner.body[0].value, ast.Constant)}


@pytest.mark.parametrize("name", ["answer.py", "render", "slack_render", "handoff/compose.py",
                                  "listeners/actions/forward.py"])
def test_no_japanese_left_outside_the_catalog(name):
    """The modules whose tables the catalog replaced hold no user-facing kana any more (comments
    and docstrings may quote the policy)."""
    paths = [BOT / name] if name.endswith(".py") else sorted((BOT / name).glob("*.py"))
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                assert not any("\u3040" <= ch <= "\u30ff" for ch in node.value), \
                    f"{path.relative_to(BOT)}:{node.lineno}: {node.value[:40]!r}"
