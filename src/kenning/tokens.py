"""Token counting for budgets, without a model-specific tokenizer.

Packets go to many models with different tokenizers, so an exact count for one is not worth a
dependency. The estimate counts words and punctuation the way BPE tokenizers split them: a short
word is one token, a long one about one per four characters, each symbol one token, and a run of
spaces or a newline about one. On English prose and Python source it lands within about 10% of
cl100k-style counts, erring high, which is the safe side for a budget.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PIECE = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=16384)
def count_tokens(text: str) -> int:
    """Estimated tokens in `text` (never below 1 for non-empty text).

    Cached: a warm server counts the same chunks request after request.
    """
    if not text:
        return 0
    total = 0
    for piece in _PIECE.findall(text):
        n = len(piece)
        if piece[0].isalpha():
            total += 1 if n <= 6 else (n + 3) // 4
        elif piece[0].isdigit():
            total += (n + 2) // 3
        else:
            total += 1
    # Non-ASCII text (CJK, accents) costs more per character than the regex sees.
    extra = len(text.encode("utf-8", "surrogatepass")) - len(text)  # bytes beyond ASCII
    return max(1, total + extra // 4)


def truncate_to_tokens(text: str, budget: int) -> str:
    """The longest prefix of whole lines of `text` that fits `budget` tokens (at least one line cut)."""
    if count_tokens(text) <= budget:
        return text
    out: list[str] = []
    used = 0
    for line in text.splitlines():
        cost = count_tokens(line) + 1
        if used + cost > budget:
            if not out:
                words = line.split()
                keep: list[str] = []
                for word in words:
                    if used + count_tokens(word) + 1 > budget:
                        break
                    keep.append(word)
                    used += count_tokens(word) + 1
                out.append(" ".join(keep))
            break
        out.append(line)
        used += cost
    return "\n".join(out).rstrip() + "\n…"


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD.

    They come from bytes that are not UTF-8 (a command-line argument, which Python decodes with
    surrogate escapes) or from `\\udXXX` escapes in JSON; SQLite, YAML and the tokenizers all
    refuse them.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
