"""The lean e5 tokenizer must give exactly the ids of the Rust tokenizer in the model folder.

The index's vectors were computed through one and questions may go through the other (an
index built before this tokenizer existed), so any difference would silently skew retrieval.
"""
from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path

import pytest

from index.models.e5_folder import materialize_default_model
from index.models.e5_lean_tokenizer import E5LeanTokenizer

pytestmark = pytest.mark.model  # the bundled e5 model's folder

REPO = Path(__file__).resolve().parents[1]
SPECIALS = ["<s>", "</s>", "<pad>", "<unk>", "<mask>", " <mask>", "<mask> ", "\u3000<mask>", "<s><s>", "<mas"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialize_default_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def rust(model_dir: Path):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(512)
    return tokenizer


def _corpus() -> list[str]:
    texts = (REPO / "policy_text" / "privacy_policy.txt").read_text(encoding="utf-8").splitlines()
    for path in (REPO.parent / "shared" / "eval" / "questions-dev.jsonl", REPO / "eval" / "questions-heldout.jsonl",
                 REPO / "eval" / "questions-train.jsonl"):
        if path.is_file():
            texts += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts


def _random_texts(count: int, seed: int = 11) -> list[str]:
    """Mixed scripts and widths, odd spaces (Unicode and not), combining marks, emoji, unknown
    characters, control characters and special-token strings glued to text and to spaces."""
    ranges = [(0x20, 0x7F), (0x3000, 0x3100), (0xFF00, 0xFF70), (0x4E00, 0x4F00), (0xAC00, 0xAC40), (0x0400, 0x0450)]
    extra = [0x3000, 0x2003, 0x00A0, 0x0009, 0x000A, 0x0085, 0x001C, 0x200B, 0x2028, 0x2581, 0x1F600, 0x1F44D,
             0x1F3FD, 0x00E9, 0x0301, 0x3099, 0xFF76, 0xFF9E, 0x2460, 0x3231, 0x00AD, 0xE000, 0x10FFFD, 0x0000]
    alphabet = [chr(c) for lo, hi in ranges for c in range(lo, hi)] + [chr(c) for c in extra] + SPECIALS * 8
    rnd = random.Random(seed)
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 50))) for _ in range(count)]


EDGE_CASES = ["", " ", "\t\n", "  a  b  ", "ｱｲｳｴｵ", "ｶﾞ", "①②③", "㈱ソコナラ", "Ｈｅｌｌｏ　Ｗｏｒｌｄ", "e\u0301",
              "😀😀😀", "丵丵丵", "x" * 600, "個人情報" * 400, "第3条（利用目的）第1項第4号", "info@sokonara.co.jp 090-1234-5678",
              *SPECIALS]


@pytest.mark.parametrize("prompt", ["query: ", "passage: ", ""])
def test_same_ids_as_the_rust_tokenizer(model_dir: Path, rust, prompt: str) -> None:
    lean = E5LeanTokenizer.from_folder(model_dir, 512)
    texts = _corpus() + EDGE_CASES + _random_texts(2000)
    assert len(texts) > 2200
    mismatched = [text for text in texts if lean.encode(prompt + text) != rust.encode(prompt + text).ids]
    assert mismatched == []
    assert len(lean.encode("個人 情報 " * 400)) == 512  # truncated to the window, </s> kept
    assert lean.encode("")[0] == 0 and lean.encode("")[-1] == 2


def test_the_compact_copy_is_written_once_and_rebuilt_when_damaged(model_dir: Path, rust) -> None:
    for stale in model_dir.parent.glob("e5-pieces-*.json"):
        stale.unlink()
    first = E5LeanTokenizer.from_folder(model_dir, 512)
    (compact,) = model_dir.parent.glob("e5-pieces-*.json")
    written = compact.stat().st_mtime_ns
    E5LeanTokenizer.from_folder(model_dir, 512)
    assert compact.stat().st_mtime_ns == written  # read, not rewritten

    compact.write_bytes(compact.read_bytes()[:1000])  # a truncated copy (a full disk, a hand edit)
    again = E5LeanTokenizer.from_folder(model_dir, 512)
    assert json.loads(compact.read_bytes())["pieces"][:3] == ["<s>", "<pad>", "</s>"]
    text = "お問い合わせ窓口はどこですか"
    assert first.encode(text) == again.encode(text) == rust.encode(text).ids


def test_an_unwritable_cache_still_tokenizes(tmp_path: Path, model_dir: Path, rust,
                                             caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "cache" / model_dir.name
    folder.mkdir(parents=True)
    os.link(model_dir / "tokenizer.json", folder / "tokenizer.json")
    E5LeanTokenizer.from_folder(folder, 512)
    (compact,) = folder.parent.glob("e5-pieces-*.json")
    compact.unlink()
    compact.mkdir()  # its place taken: neither readable nor writable, even for root
    with caplog.at_level(logging.INFO):
        lean = E5LeanTokenizer.from_folder(folder, 512)
    assert lean.encode("個人情報の開示") == rust.encode("個人情報の開示").ids
    assert "POLICYBOT_CACHE_DIR" in caplog.text
