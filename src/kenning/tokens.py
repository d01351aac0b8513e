"""Token counting for budgets, without a model-specific tokenizer.

Packets go to many models with different tokenizers, so an exact count for one is not worth a
dependency. The estimate counts words and punctuation the way BPE tokenizers split them: a short
word is one token, a long one about one per four characters, each symbol one token, and a run of
spaces or a newline about one. On English prose and Python source it lands within about 10% of
cl100k-style counts, erring high, which is the safe side for a budget.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

_PIECE = re.compile(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]|\n")
_SURROGATE = re.compile("[\ud800-\udfff]")

_LETTERS = string.ascii_letters.encode()
_DIGITS = string.digits.encode()
_SPACES = bytes(c for c in range(128) if chr(c).isspace())  # what `\s` matches in ASCII


def _marking(chars: bytes, mark: bytes) -> bytes:
    """A `bytes.translate` table: `chars` become `mark`, every other byte a space."""
    table = bytearray(b" " * 256)
    for c in chars:
        table[c] = mark[0]
    return bytes(table)


_AS_LETTERS = _marking(_LETTERS, b"a")
_AS_DIGITS = _marking(_DIGITS, b"0")


@lru_cache(maxsize=16384)
def count_tokens(text: str) -> int:
    """Estimated tokens in `text` (never below 1 for non-empty text).

    Cached: a warm server counts the same chunks request after request.
    """
    if not text:
        return 0
    if text.isascii():
        return max(1, _count_ascii(text.encode("ascii")))
    if any(c.isspace() or c.isdecimal() for c in set(text) if not c.isascii()):
        return count_by_pieces(text)  # non-ASCII spaces and digits: the regex's own reading
    # Every other non-ASCII character is a piece of its own ("·", "…", "é", "漢"), as "?" is.
    return max(1, _count_ascii(text.encode("ascii", "replace")) + _beyond_ascii(text) // 4)


def count_by_pieces(text: str) -> int:
    """`count_tokens` the slow way, one regex piece at a time: the rule itself, which the
    byte path must match (and does, see tests/engine/test_token_count.py)."""
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
    return max(1, total + _beyond_ascii(text) // 4)


def _beyond_ascii(text: str) -> int:
    """UTF-8 bytes beyond one per character: non-ASCII text (CJK, accents) costs more per
    character than its pieces show."""
    return len(text.encode("utf-8", "surrogatepass")) - len(text)


def _count_ascii(data: bytes) -> int:
    """`count_tokens` of ASCII text, the same count from byte translations: a brief counts
    ~200 KB of code, and the per-piece loop over the regex's matches was most of a packing."""
    words = data.translate(_AS_LETTERS).split()  # the runs of letters
    numbers = data.translate(_AS_DIGITS).split()  # the runs of digits
    symbols = len(data.translate(None, _LETTERS + _DIGITS + _SPACES))
    total = len(words) + len(numbers) + symbols + data.count(b"\n")
    for word in words:
        if len(word) > 6:
            total += (len(word) + 3) // 4 - 1
    for number in numbers:
        if len(number) > 3:
            total += (len(number) + 2) // 3 - 1
    return total


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
