"""Every user-facing string, in Japanese and English: `t(key, lang, **fields)`."""
from bot.text.catalog import LANGS, examples, t

__all__ = ["LANGS", "examples", "t"]
