"""Policy text → clause tree (Article → Paragraph → Item) with ids and legal-style labels.

The parser keeps every clause's text verbatim: answers quote it, so nothing may be
rewritten. Structure is recognised on an NFKC-normalised copy of each line so that
full- and half-width brackets, digits and dots are treated alike.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

TRAILER_ID = "trailer"
PREAMBLE_ID = "preamble"

_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(\d+|[〇一二三四五六七八九十百]+)"
_HEADING = re.compile(rf"^第\s*{_NUM}\s*条\s*(?:\(\s*(.+?)\s*\))?\s*$")
# A line that starts like a heading (第5乗（…）, 第6条 共同利用) but does not parse as one.
_HEADING_LIKE = re.compile(rf"^第\s*{_NUM}\s*[条乗項号]?\s*[(（]|^第\s*{_NUM}\s*条\s+[^\s、。]{{1,20}}$")
_PARAGRAPH = re.compile(r"^(\d+)\s*\.\s*(.*)$")
_ITEM = re.compile(r"^(?:-\s*)?\((\d+)\)\s*(.*)$")
_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_RAW_MARKER = re.compile(r"^\s*(?:(?:[-－]\s*)?[（(][0-9０-９]+[）)]|[0-9０-９]+\s*[.．])\s*")
# A line of the closing date block: a date and what happened on it, in either order
# (「2024年10月1日 制定」, 「制定日：2024年10月1日」, 「最終改定 2026年6月3日」), and nothing else.
_DATE_EVENT = r"(?:最終)?(?:制定|改定|改訂|施行|更新)(?:日)?"
_TRAILER_LINE = re.compile(
    rf"^(?:{_DATE_EVENT}\s*:?\s*)?\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日\s*(?:{_DATE_EVENT})?\s*$")
# A bracketed block heading (【お問合せ窓口】): it and the lines under it are one unit.
_BLOCK_HEADING = re.compile(r"^【[^】]+】$")
# "label：value" lines of the contact block (住所：…, 代表者：…), on the NFKC form (： → :).
_FIELD = re.compile(r"^([^:\s]{1,12})\s*:\s*(.+)$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_COMPANY = re.compile(r"(株式会社[^\s、。,（(「]+|[^\s、。,（(「：:]+株式会社)")


class PolicyParseError(ValueError):
    """The policy text does not have the structure the bot can cite; names the line."""

    def __init__(self, message: str, line: int | None = None, path: str | None = None):
        where = f"{path or 'policy'}:{line}: " if line else (f"{path}: " if path else "")
        super().__init__(f"{where}{message}")
        self.line = line


@dataclass
class Item:
    number: int
    text: str
    line: int


@dataclass
class Paragraph:
    number: int
    text: str
    line: int
    numbered: bool
    items: list[Item] = field(default_factory=list)
    # A 【…】 block (the contact window of 第10条): its heading line and every line under it.
    block: bool = False


@dataclass
class Article:
    number: int
    title: str | None
    line: int
    paragraphs: list[Paragraph] = field(default_factory=list)

    @property
    def single_paragraph(self) -> bool:
        """Japanese legal usage: a one-paragraph article is cited without 第1項 — and is itself
        the unit, unless a 【…】 block stands beside its paragraph (then both are units)."""
        return len(self.paragraphs) == 1 and not self.paragraphs[0].block and (
            not self.paragraphs[0].numbered or self.paragraphs[0].number == 1
        )

    @property
    def numbers_paragraphs(self) -> bool:
        """Whether labels say 第N項: only when the article has more than one real paragraph
        (a 【…】 block is not a paragraph of the text, so 第10条's lead stays 第10条（…）)."""
        real = [p for p in self.paragraphs if not p.block]
        return len(real) > 1 or any(p.numbered and p.number != 1 for p in real)


@dataclass(frozen=True)
class Clause:
    """One citable unit. `text` is verbatim; `context` is what retrieval embeds around it.

    `views` are further texts the dense retrievers embed for the same unit, each unit scoring by
    its best view (shared/RETRIEVAL-NOTES.md: several views per unit help): the lead sentence
    (柱書) of a unit that lists items, which the items would otherwise drown; the unit's own
    text without the context around it; and its title with its first sentence.
    """

    id: str
    label: str
    kind: str  # article | paragraph | item | trailer | preamble
    article: int | None
    paragraph: int | None
    item: int | None
    title: str | None
    text: str
    context: str
    line: int
    views: tuple[str, ...] = ()
    # For an item: the first sentence of its paragraph's lead (柱書), verbatim, shown as muted
    # context so 「利用料金の請求及び支払決済手続」 reads as one of the purposes it lists.
    lead: str | None = None

    def to_json(self) -> dict:
        return {
            "id": self.id, "label": self.label, "kind": self.kind, "article": self.article,
            "paragraph": self.paragraph, "item": self.item, "title": self.title,
            "text": self.text, "context": self.context, "line": self.line, "views": list(self.views),
            "lead": self.lead,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Clause":
        fields = {k: data[k] for k in (
            "id", "label", "kind", "article", "paragraph", "item", "title", "text", "context", "line")}
        return cls(**fields, views=tuple(data.get("views", ())), lead=data.get("lead"))


@dataclass
class Policy:
    articles: list[Article]
    trailer_text: str | None
    trailer_line: int | None
    preamble_text: str | None
    source_text: str
    sha256: str

    # --- facts read from the text (never hard-coded) ---------------------------------
    @property
    def contact_article(self) -> Article | None:
        """The article holding the contact window: the last one that names an e-mail address."""
        for article in reversed(self.articles):
            if any(_EMAIL.search(p.text) for p in article.paragraphs):
                return article
        return None

    @property
    def contact_email(self) -> str | None:
        article = self.contact_article
        if article is None:
            return None
        for paragraph in article.paragraphs:
            found = _EMAIL.search(paragraph.text)
            if found:
                return found.group(0)
        return None

    @property
    def contact_block(self) -> Paragraph | None:
        """The unit that holds the contact window: the 【…】 block (or paragraph) naming the address."""
        article = self.contact_article
        if article is None:
            return None
        holders = [p for p in article.paragraphs if _EMAIL.search(p.text)]
        return next((p for p in holders if p.block), holders[-1] if holders else None)

    @property
    def contact_fields(self) -> dict[str, str]:
        """The contact block's 'label：value' lines (住所, 代表者, メールアドレス …), labels as written."""
        block = self.contact_block
        if block is None:
            return {}
        fields: dict[str, str] = {}
        for line in block.text.splitlines():
            found = _FIELD.match(unicodedata.normalize("NFKC", line.strip()))
            if found:
                # the value as written (full-width characters kept), after the first colon
                value = re.split(r"[:：]", line.strip(), maxsplit=1)[1].strip()
                fields.setdefault(found.group(1), value)
        return fields

    @property
    def company_address(self) -> str | None:
        return next((v for k, v in self.contact_fields.items() if "住所" in k or "所在地" in k), None)

    @property
    def representative(self) -> str | None:
        return next((v for k, v in self.contact_fields.items() if "代表" in k), None)

    @property
    def company_name(self) -> str | None:
        for text in self._texts_contact_first():
            found = _COMPANY.search(text)
            if found:
                return found.group(1)
        return None

    @property
    def dates(self) -> list[date]:
        """Enactment and revision dates from the trailer, oldest first."""
        if not self.trailer_text:
            return []
        found = [date(int(y), int(m), int(d)) for y, m, d in _DATE.findall(unicodedata.normalize("NFKC", self.trailer_text))]
        return sorted(found)

    @property
    def revision_date(self) -> date | None:
        """The revision in force: the latest date of the trailer."""
        dates = self.dates
        return dates[-1] if dates else None

    def _texts_contact_first(self) -> list[str]:
        contact = self.contact_article
        texts = [p.text for p in contact.paragraphs] if contact else []
        texts += [p.text for a in self.articles for p in a.paragraphs]
        if self.preamble_text:
            texts.append(self.preamble_text)
        return texts

    # --- clause units ------------------------------------------------------------------
    def clauses(self) -> list[Clause]:
        """Every citable unit in document order: articles, paragraphs, items, trailer."""
        units: list[Clause] = []
        if self.preamble_text:
            units.append(Clause(PREAMBLE_ID, "前文", "preamble", None, None, None, None,
                                self.preamble_text, self.preamble_text, 1))
        for article in self.articles:
            units.extend(_article_clauses(article))
        if self.trailer_text is not None:
            label = "制定日・改定日"
            context = f"本ポリシーの{label}\n{self.trailer_text}"
            units.append(Clause(TRAILER_ID, label, "trailer", None, None, None, None, self.trailer_text, context,
                                self.trailer_line or 0, _views(context, "", self.trailer_text)))
        return units


def article_label(article: Article) -> str:
    number = f"第{article.number}条"
    return f"{number}（{article.title}）" if article.title else number


def _paragraph_text(paragraph: Paragraph) -> str:
    lines = [paragraph.text] + [f"({item.number}) {item.text}" for item in paragraph.items]
    return "\n".join(line for line in lines if line)


def _article_clauses(article: Article) -> list[Clause]:
    """A one-paragraph article is itself the unit (第5条（…）, items 第6条（…）第2号);
    otherwise each paragraph is (第3条（…）第1項, items 第3条（…）第1項第4号)."""
    head = article_label(article)
    title = article.title or ""
    units: list[Clause] = []
    for paragraph in article.paragraphs:
        text = _paragraph_text(paragraph)
        if article.single_paragraph:
            unit_id, label, kind, number = str(article.number), head, "article", None
        else:
            unit_id, kind, number = f"{article.number}-{paragraph.number}", "paragraph", paragraph.number
            if paragraph.block:  # cited by its own heading: 第10条（お問い合わせ）【お問合せ窓口】
                label = f"{head}{paragraph.text.splitlines()[0]}"
            elif article.numbers_paragraphs:
                label = f"{head}第{paragraph.number}項"
            else:
                label = head
        lead_view = f"{title}\n{paragraph.text}".strip() if paragraph.items and paragraph.text else None
        context = f"{title}\n{text}".strip()
        views = _views(context, title, text, lead_view) + (_block_views(title, paragraph.text) if paragraph.block else ())
        units.append(Clause(unit_id, label, kind, article.number, number, None, article.title, text, context,
                            paragraph.line if number else article.line, views))
        for item in paragraph.items:
            context = f"{title}\n{paragraph.text}\n{item.text}".strip()
            units.append(Clause(
                f"{article.number}-{paragraph.number}-{item.number}", f"{label}第{item.number}号", "item",
                article.number, paragraph.number, item.number, article.title, item.text, context, item.line,
                _views(context, title, item.text), lead=first_sentence(paragraph.text) or None))
    return units


def _block_views(title: str, block: str) -> tuple[str, ...]:
    """A 【…】 block lists facts line by line (住所：…, 代表者：…, a label line and its value): each
    pair of neighbouring lines is a view, so 「代表者は誰？」 meets its line, not the whole list."""
    lines = block.splitlines()[1:]
    return tuple(f"{title}\n" + "\n".join(lines[i:i + 2]) for i in range(max(0, len(lines) - 1)))


def _views(context: str, title: str, own: str, lead: str | None = None) -> tuple[str, ...]:
    """The unit's further dense views (see Clause), without repeats of its context or each other."""
    candidates = [lead, own, f"{title}\n{first_sentence(own)}".strip()]
    views: list[str] = []
    for view in candidates:
        if view and view != context and view not in views:
            views.append(view)
    return tuple(views)


def first_sentence(text: str) -> str:
    """The text up to its first 。 (verbatim), or the whole first line."""
    line = text.split("\n", 1)[0]
    end = line.find("。")
    return line[:end + 1] if end >= 0 else line


def _to_int(numeral: str) -> int:
    """Arabic or kanji numeral (第十二条) → int."""
    if numeral.isdigit():
        return int(numeral)
    total, current = 0, 0
    for ch in numeral:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = current * 10 + _KANJI_DIGITS[ch]
    return total + current


def parse(text: str, path: str | None = None) -> Policy:
    """Parse the policy text. Raises PolicyParseError naming the offending line."""
    sha256 = text_sha256(text)  # of the file as written: freshness checks hash it
    text = text.lstrip("\ufeff")  # editors on Windows save UTF-8 with a byte-order mark
    if not text.strip():
        raise PolicyParseError("the policy file is empty: put the policy text in it and rebuild", path=path)
    lines = text.splitlines()
    articles: list[Article] = []
    seen: dict[int, int] = {}
    leading: list[tuple[int, str]] = []  # lines before the first heading
    trailer: list[str] = []
    trailer_line: int | None = None
    last_item: Item | None = None

    for lineno, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped:
            continue  # blank lines carry no structure (page-break artefacts included)
        norm = unicodedata.normalize("NFKC", stripped)
        if is_date_line(norm):  # the 制定/改定 dates are the trailer wherever they stand
            trailer_line = trailer_line or lineno
            trailer.append(stripped)
            continue
        heading = _HEADING.match(norm)
        if heading:
            number = _to_int(heading.group(1))
            if number in seen:
                raise PolicyParseError(
                    f"第{number}条 appears twice (first at line {seen[number]}); fix the heading number",
                    lineno, path)
            if articles and number <= articles[-1].number:
                raise PolicyParseError(
                    f"第{number}条 comes after 第{articles[-1].number}条; articles must be in order", lineno, path)
            if articles and number != articles[-1].number + 1:
                raise PolicyParseError(
                    f"第{number}条 follows 第{articles[-1].number}条: is the heading of 第{articles[-1].number + 1}条 "
                    "mistyped? (if an article was removed, renumber the ones after it)", lineno, path)
            seen[number] = lineno
            title = _title_verbatim(stripped) if heading.group(2) else None
            articles.append(Article(number, title, lineno))
            last_item = None
            continue
        if _HEADING_LIKE.match(norm):
            raise PolicyParseError(f"this looks like an article heading but is not one: {stripped[:30]!r} "
                                   "(expected e.g. 第3条 （利用目的）)", lineno, path)
        if not articles:
            leading.append((lineno, raw))
            continue
        last_item = _add_body_line(articles[-1], lineno, raw, norm, last_item, path)

    if not articles:
        raise PolicyParseError("no article heading (第N条 （見出し）) found; is this the policy text?",
                               1 if lines else None, path)
    preamble = _attach_leading(leading, articles, path)
    for article in articles:
        if not article.paragraphs:
            raise PolicyParseError(f"第{article.number}条 has no text", article.line, path)
    return Policy(
        articles=articles,
        trailer_text="\n".join(trailer) if trailer else None,
        trailer_line=trailer_line,
        preamble_text=preamble,
        source_text=text,
        sha256=sha256,
    )


def is_date_line(norm: str) -> bool:
    """A line of the closing date block (NFKC form): one date and what happened on it."""
    return bool(_TRAILER_LINE.match(norm)) and bool(re.search(_DATE_EVENT, norm))


def _title_verbatim(heading_line: str) -> str:
    """The title between the brackets, as written (brackets of either width)."""
    found = re.search(r"[（(]\s*(.+?)\s*[）)]\s*$", heading_line)
    return found.group(1) if found else ""


def _add_body_line(article: Article, lineno: int, raw: str, norm: str, last_item: Item | None,
                   path: str | None) -> Item | None:
    """Place one body line: new paragraph, new item, 【…】 block, or continuation. Returns the open item."""
    if _BLOCK_HEADING.match(norm):
        article.paragraphs.append(Paragraph(_next_number(article), raw.strip(), lineno, numbered=False, block=True))
        return None
    open_block = article.paragraphs[-1] if article.paragraphs and article.paragraphs[-1].block else None
    numbered = _PARAGRAPH.match(norm)
    if numbered:
        number = int(numbered.group(1))
        if open_block is not None:
            raise PolicyParseError(
                f"paragraph {number}. follows the block {open_block.text.splitlines()[0]} in 第{article.number}条: "
                "a 【…】 block must come after the article's paragraphs", lineno, path)
        if article.paragraphs and number != article.paragraphs[-1].number + 1:
            raise PolicyParseError(
                f"paragraph {number}. should be {article.paragraphs[-1].number + 1}. in 第{article.number}条",
                lineno, path)
        article.paragraphs.append(Paragraph(number, _verbatim_after_marker(raw), lineno, True))
        return None
    if open_block is not None:  # every line under a 【…】 heading belongs to its block, verbatim
        open_block.text = f"{open_block.text}\n{raw.strip()}"
        return None
    item = _ITEM.match(norm)
    if item:
        if not article.paragraphs:
            article.paragraphs.append(Paragraph(1, "", lineno, numbered=False))
        paragraph = article.paragraphs[-1]
        number = int(item.group(1))
        expected = len(paragraph.items) + 1
        if number != expected:
            raise PolicyParseError(f"item ({number}) should be ({expected}) in 第{article.number}条", lineno, path)
        new_item = Item(number, _verbatim_after_marker(raw), lineno)
        paragraph.items.append(new_item)
        return new_item
    indented = raw[:1].isspace()
    unnumbered_article = bool(article.paragraphs) and not article.paragraphs[0].numbered
    if not article.paragraphs or (unnumbered_article and not indented and last_item is None) \
            or (unnumbered_article and not indented and not raw.lstrip().startswith(("-", "・"))):
        article.paragraphs.append(Paragraph(_next_number(article), raw.strip(), lineno, numbered=False))
        return None
    # A wrapped or indented line continues the open unit.
    if last_item is not None:
        last_item.text = f"{last_item.text}\n{raw.strip()}"
        return last_item
    paragraph = article.paragraphs[-1]
    paragraph.text = f"{paragraph.text}\n{raw.strip()}" if paragraph.text else raw.strip()
    return None


def _next_number(article: Article) -> int:
    return article.paragraphs[-1].number + 1 if article.paragraphs else 1


def _verbatim_after_marker(raw: str) -> str:
    """Text after a '1.' or '- (1)' marker, cut from the raw line so character widths are kept."""
    return _RAW_MARKER.sub("", raw, count=1).strip()


def _attach_leading(leading: list[tuple[int, str]], articles: list[Article], path: str | None) -> str | None:
    """Text before the first heading: the fragment of the previous article, or a preamble."""
    if not leading:
        return None
    first = articles[0]
    first_norm = unicodedata.normalize("NFKC", leading[0][1].strip())
    if first.number > 1 and _PARAGRAPH.match(first_norm) or _ITEM.match(first_norm):
        if first.number <= 1:
            raise PolicyParseError("text before 第1条 looks like a numbered paragraph; which article is it?",
                                   leading[0][0], path)
        fragment = Article(first.number - 1, None, leading[0][0])
        last_item: Item | None = None
        for lineno, raw in leading:
            last_item = _add_body_line(fragment, lineno, raw, unicodedata.normalize("NFKC", raw.strip()),
                                       last_item, path)
        articles.insert(0, fragment)
        return None
    return "\n".join(raw.strip() for _, raw in leading)


def text_sha256(text: str) -> str:
    """The identity of a policy text, as recorded in the index manifest."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    return text_sha256(path.read_text(encoding="utf-8"))


def load(path: Path) -> Policy:
    """Read and parse a policy file, with errors that name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyParseError(
            f"policy file not found: {path} (put the policy text there or pass --policy PATH)") from None
    except UnicodeDecodeError as exc:
        raise PolicyParseError(f"policy file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                               path=str(path)) from None
    return parse(text, path=str(path))
