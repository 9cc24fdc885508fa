"""Clause-level diff of two policy texts, for maintainers reviewing a revision.

Clauses are matched across versions by their text (character similarity), not by id: an
item inserted in 第3条第1項 shifts the following items, and those must show up as moves
(old label → new label), not as deletions plus additions. Changed text is diffed by
character, because Japanese has no spaces and a word diff would mark whole sentences.

Each unit is compared on its own text only: a paragraph's lead sentence (柱書) without its
items, each item on its own, an article heading by its title. A changed item is therefore
reported once, as the item, and never again as a change of the paragraph that holds it.
Pure: no I/O.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from index.policy import Policy, article_label

CHANGED = "changed"
ADDED = "added"
REMOVED = "removed"
MOVED = "moved"
KINDS = (CHANGED, ADDED, REMOVED, MOVED)

# Two texts are "the same clause, edited" above this similarity (difflib ratio, characters).
MATCH_RATIO = 0.6
# A clause that kept its id may have been rewritten more heavily and still be the same clause.
SAME_ID_RATIO = 0.3
# Equal runs this short between two edits are folded into one replacement: a one-character
# coincidence (「の」, 「、」) in the middle of a rewrite only makes the diff harder to read.
_SHORT_EQUAL = 2

_ANSI = {"del": "\x1b[31m\x1b[9m", "ins": "\x1b[32m", "head": "\x1b[1m", "dim": "\x1b[2m",
         "warn": "\x1b[33m", "reset": "\x1b[0m"}


@dataclass(frozen=True)
class Unit:
    """One comparable piece of a policy: its own text, without the items it contains."""

    id: str
    unit: str  # heading | article | paragraph | item | trailer | preamble
    label: str
    text: str
    article: int | None
    position: int

    @property
    def family(self) -> str:
        """Units only match within a family: a heading never matches a clause body."""
        return self.unit if self.unit in ("heading", "trailer") else "body"


@dataclass(frozen=True)
class Side:
    """What a maintainer needs to know about one version of the text."""

    sha256: str
    revision: str | None  # ISO date: the latest date of the trailer
    dates: tuple[str, ...]
    contact_email: str | None
    company: str | None
    source: str | None = None

    def to_json(self) -> dict:
        return {"sha256": self.sha256, "revision": self.revision, "dates": list(self.dates),
                "contact_email": self.contact_email, "company": self.company, "source": self.source}


@dataclass(frozen=True)
class Change:
    kind: str  # changed | added | removed | moved
    unit: str
    old_id: str | None
    new_id: str | None
    old_label: str | None
    new_label: str | None
    old_text: str | None
    new_text: str | None
    ops: tuple[tuple[str, str, str], ...] = ()
    similarity: float | None = None

    @property
    def text_changed(self) -> bool:
        """True for a changed clause and for a move that was also edited."""
        return any(op != "equal" for op, _, _ in self.ops)

    @property
    def label(self) -> str:
        return self.new_label or self.old_label or ""

    def to_json(self) -> dict:
        return {"kind": self.kind, "unit": self.unit, "old_id": self.old_id, "new_id": self.new_id,
                "old_label": self.old_label, "new_label": self.new_label, "old_text": self.old_text,
                "new_text": self.new_text, "text_changed": self.text_changed,
                "similarity": None if self.similarity is None else round(self.similarity, 4),
                "ops": [list(op) for op in self.ops]}


@dataclass(frozen=True)
class PolicyDiff:
    old: Side
    new: Side
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def identical(self) -> bool:
        return self.old.sha256 == self.new.sha256

    @property
    def has_changes(self) -> bool:
        """Clause-level changes; a whitespace-only edit changes the hash but not this."""
        return bool(self.changes)

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for c in self.changes if c.kind == kind) for kind in KINDS}

    def to_json(self) -> dict:
        return {"old": self.old.to_json(), "new": self.new.to_json(), "identical": self.identical,
                "counts": self.counts(), "changes": [c.to_json() for c in self.changes],
                "warnings": list(self.warnings)}


# --- building units ------------------------------------------------------------------------

def policy_units(policy: Policy) -> list[Unit]:
    """Every unit of the policy in document order, each with its own text only."""
    labels = {c.id: c.label for c in policy.clauses()}
    units: list[Unit] = []

    def add(uid: str, unit: str, label: str, text: str | None, article: int | None) -> None:
        if text and text.strip():
            units.append(Unit(uid, unit, label, text, article, len(units)))

    if policy.preamble_text:
        add("preamble", "preamble", labels.get("preamble", "前文"), policy.preamble_text, None)
    for article in policy.articles:
        if article.title:
            add(str(article.number), "heading", article_label(article), article.title, article.number)
        single = article.single_paragraph
        for paragraph in article.paragraphs:
            pid = str(article.number) if single else f"{article.number}-{paragraph.number}"
            add(pid, "article" if single else "paragraph", labels[pid], paragraph.text, article.number)
            for item in paragraph.items:
                iid = f"{article.number}-{paragraph.number}-{item.number}"
                add(iid, "item", labels[iid], item.text, article.number)
    if policy.trailer_text:
        add("trailer", "trailer", labels.get("trailer", "制定日・改定日"), policy.trailer_text, None)
    return units


# --- matching ------------------------------------------------------------------------------

def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def match_units(old: list[Unit], new: list[Unit]) -> dict[int, tuple[int, float]]:
    """old position → (new position, similarity). Identical texts first, then the most similar."""
    pairs: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()

    by_text: dict[tuple[str, str], list[Unit]] = {}
    for unit in new:
        by_text.setdefault((unit.family, unit.text), []).append(unit)
    # Identical text: prefer the candidate that kept its id, else the first in order.
    for unit in old:
        candidates = [u for u in by_text.get((unit.family, unit.text), []) if u.position not in taken]
        if not candidates:
            continue
        best = next((u for u in candidates if u.id == unit.id), candidates[0])
        pairs[unit.position] = (best.position, 1.0)
        taken.add(best.position)

    scored: list[tuple[float, float, int, int]] = []
    for o in old:
        if o.position in pairs:
            continue
        for n in new:
            if n.position in taken or n.family != o.family:
                continue
            same_id = o.id == n.id
            if o.family == "trailer":
                ratio = _ratio(o.text, n.text)
            else:
                sm = difflib.SequenceMatcher(None, o.text, n.text, autojunk=False)
                floor = SAME_ID_RATIO if same_id else MATCH_RATIO
                if sm.real_quick_ratio() < floor or sm.quick_ratio() < floor:
                    continue
                ratio = sm.ratio()
                if ratio < floor:
                    continue
            # Ties (and near-ties) go to the clause that kept its id, then to the same article.
            bonus = (0.05 if same_id else 0.0) + (0.01 if o.article == n.article else 0.0)
            scored.append((ratio + bonus, ratio, o.position, n.position))
    for _, ratio, o_pos, n_pos in sorted(scored, key=lambda s: (-s[0], s[2], s[3])):
        if o_pos in pairs or n_pos in taken:
            continue
        pairs[o_pos] = (n_pos, ratio)
        taken.add(n_pos)
    return pairs


# --- character diff ------------------------------------------------------------------------

def char_ops(old: str, new: str) -> tuple[tuple[str, str, str], ...]:
    """Character-level edit script: (op, old segment, new segment), op in equal/insert/delete/replace."""
    raw = [[tag, old[i1:i2], new[j1:j2]] for tag, i1, i2, j1, j2 in
           difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()]
    return tuple(tuple(op) for op in _fold_short_equals(raw))  # type: ignore[misc]


def _fold_short_equals(ops: list[list[str]]) -> list[list[str]]:
    changed = True
    while changed:
        changed = False
        for i in range(1, len(ops) - 1):
            tag, a, _ = ops[i]
            if tag == "equal" and len(a) <= _SHORT_EQUAL and ops[i - 1][0] != "equal" and ops[i + 1][0] != "equal":
                prev, nxt = ops[i - 1], ops[i + 1]
                old_seg = prev[1] + a + nxt[1]
                new_seg = prev[2] + a + nxt[2]
                ops[i - 1:i + 2] = [["replace", old_seg, new_seg]]
                changed = True
                break
    return ops


# --- the diff ------------------------------------------------------------------------------

def _side(policy: Policy, source: str | None) -> Side:
    revision = policy.revision_date
    return Side(sha256=policy.sha256, revision=revision.isoformat() if revision else None,
                dates=tuple(d.isoformat() for d in policy.dates), contact_email=policy.contact_email,
                company=policy.company_name, source=source)


def diff_policies(old: Policy, new: Policy, old_source: str | None = None,
                  new_source: str | None = None) -> PolicyDiff:
    """Compare two parsed policies clause by clause."""
    old_units, new_units = policy_units(old), policy_units(new)
    pairs = match_units(old_units, new_units)
    matched_new = {n for n, _ in pairs.values()}

    ordered: list[tuple[float, Change]] = []
    for o_pos, (n_pos, ratio) in pairs.items():
        o, n = old_units[o_pos], new_units[n_pos]
        if o.id == n.id and o.text == n.text:
            continue
        kind = CHANGED if o.id == n.id else MOVED
        ordered.append((n_pos, Change(kind, n.unit, o.id, n.id, o.label, n.label, o.text, n.text,
                                      char_ops(o.text, n.text), ratio)))
    for unit in new_units:
        if unit.position not in matched_new:
            ordered.append((unit.position, Change(ADDED, unit.unit, None, unit.id, None, unit.label,
                                                  None, unit.text)))
    for unit in old_units:
        if unit.position in pairs:
            continue
        # Place a removed clause just after the new position of the clause that preceded it.
        anchor = -1.0
        for prev in range(unit.position - 1, -1, -1):
            if prev in pairs:
                anchor = float(pairs[prev][0])
                break
        ordered.append((anchor + 0.5 + unit.position / 10_000, Change(
            REMOVED, unit.unit, unit.id, None, unit.label, None, unit.text, None)))
    changes = tuple(c for _, c in sorted(ordered, key=lambda pc: pc[0]))
    old_side, new_side = _side(old, old_source), _side(new, new_source)
    warnings = _revision_warnings(old_side, new_side, changes) + _reference_warnings(
        old_units, new_units, pairs)
    return PolicyDiff(old_side, new_side, changes, tuple(warnings))


def _revision_warnings(old: Side, new: Side, changes: tuple[Change, ...]) -> list[str]:
    warnings = []
    body_changed = any(c.unit != "trailer" for c in changes)
    if body_changed and new.revision and new.revision == old.revision:
        warnings.append(f"the text changed but the revision date did not (still {new.revision}): "
                        "add a line YYYY年M月D日 改定 after the dates at the end of the policy")
    if old.revision and new.revision and new.revision < old.revision:
        warnings.append(f"the revision date goes backwards ({old.revision} → {new.revision}): "
                        "are OLD and NEW the right way round?")
    if not new.revision:
        warnings.append("the new text has no 制定日/改定日 dates at the end: answers cannot say which revision they quote")
    if old.contact_email and not new.contact_email:
        warnings.append("the new text has no contact e-mail address (お問い合わせ窓口): "
                        "escalations would have no address to send users to")
    return warnings


_ARTICLE_REF = re.compile(r"(?<!法)第(\d+)条")  # 「…法第2条」 cites a law, not this policy


def _refs(text: str) -> set[int]:
    return {int(n) for n in _ARTICLE_REF.findall(unicodedata.normalize("NFKC", text))}


def _reference_warnings(old_units: list[Unit], new_units: list[Unit],
                        pairs: dict[int, tuple[int, float]]) -> list[str]:
    """Cross-references (「第10条に定める窓口」) that still point at an article's old number."""
    renumbered: dict[int, int | None] = {}
    for unit in old_units:
        if unit.unit != "heading" or unit.article is None:
            continue
        target = pairs.get(unit.position)
        new_number = new_units[target[0]].article if target else None
        if new_number != unit.article:
            renumbered[unit.article] = new_number
    warnings = []
    for o_pos, (n_pos, _) in sorted(pairs.items(), key=lambda p: p[1][0]):
        o, n = old_units[o_pos], new_units[n_pos]
        if n.unit == "heading":
            continue
        for number in sorted(_refs(o.text) & _refs(n.text)):
            if number not in renumbered:
                continue
            now = renumbered[number]
            where = f"that article is now 第{now}条" if now is not None else "that article was removed"
            warnings.append(f"{n.label} still refers to 第{number}条, but {where}: update the reference")
    return warnings


# --- terminal rendering --------------------------------------------------------------------

def render_ops(ops: tuple[tuple[str, str, str], ...], color: bool) -> str:
    """Inline character diff: colours on a terminal, git word-diff markers ([-…-]{+…+}) without."""
    out = []
    for op, old_seg, new_seg in ops:
        if op == "equal":
            out.append(new_seg)
            continue
        if old_seg:
            out.append(f"{_ANSI['del']}{old_seg}{_ANSI['reset']}" if color else f"[-{old_seg}-]")
        if new_seg:
            out.append(f"{_ANSI['ins']}{new_seg}{_ANSI['reset']}" if color else f"{{+{new_seg}+}}")
    return "".join(out)


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _side_line(side: Side) -> str:
    source = f" {side.source}" if side.source else ""
    return f"{side.revision or '(no revision date)'}  sha256 {side.sha256[:12]}{source}"


def format_terminal(diff: PolicyDiff, color: bool = False) -> str:
    """The summary `policybot diff` and `policybot build` print."""
    def paint(key: str, text: str) -> str:
        return f"{_ANSI[key]}{text}{_ANSI['reset']}" if color else text

    lines = [paint("head", "Policy changes"),
             f"  old: {_side_line(diff.old)}",
             f"  new: {_side_line(diff.new)}"]
    if diff.old.revision != diff.new.revision:
        lines.append(f"  revision: {diff.old.revision or '?'} → {diff.new.revision or '?'}")
    if diff.old.contact_email != diff.new.contact_email:
        lines.append(f"  contact e-mail: {diff.old.contact_email or '(none)'} → {diff.new.contact_email or '(none)'}")
    if diff.identical:
        lines.append("No changes: the two texts are identical.")
        return "\n".join(lines)
    if not diff.has_changes:
        lines.append("No clause changed (only blank lines or spacing between clauses).")
    else:
        counts = diff.counts()
        lines.append("  " + ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k]))
    for change in diff.changes:
        lines.append("")
        lines.extend(_change_lines(change, color, paint))
    for warning in diff.warnings:
        lines.append("")
        lines.append(paint("warn", f"warning: {warning}"))
    return "\n".join(lines)


def _change_lines(change: Change, color: bool, paint) -> list[str]:
    what = "heading " if change.unit == "heading" else ""
    if change.kind == ADDED:
        head = paint("ins", f"+ added    {what}{change.new_label}")
        return [head] if change.unit == "heading" else [head, paint("ins", _indent(change.new_text or ""))]
    if change.kind == REMOVED:
        head = paint("del", f"- removed  {what}{change.old_label}")
        return [head] if change.unit == "heading" else [head, paint("dim", _indent(change.old_text or ""))]
    if change.kind == MOVED:
        head = f"> moved    {what}{change.old_label} → {change.new_label}"
        if not change.text_changed:
            return [paint("head", head)]
        return [paint("head", head + "  (and changed)"), _indent(render_ops(change.ops, color))]
    return [paint("head", f"~ changed  {what}{change.new_label}"), _indent(render_ops(change.ops, color))]
