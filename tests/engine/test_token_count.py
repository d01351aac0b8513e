"""The token estimate: text is counted by byte translations (non-ASCII characters standing in as
"?"), and must count exactly what the per-piece rule (the regex path, which text with non-ASCII
spaces or digits still takes) counts."""

from __future__ import annotations

import random
from pathlib import Path

from kenning import tokens
from kenning.tokens import count_by_pieces as by_pieces
from kenning.tokens import count_tokens, truncate_to_tokens

SOURCES = Path(tokens.__file__).resolve().parent


def test_kenning_own_sources_count_the_same_whole_and_line_by_line() -> None:
    texts: list[str] = []
    for path in sorted(SOURCES.rglob("*.py"))[:60]:
        text = path.read_text(encoding="utf-8")
        texts += [text, *text.splitlines()]
    assert len(texts) > 1000
    assert [count_tokens(t) for t in texts] == [by_pieces(t) for t in texts]


def test_random_ascii_including_control_characters_counts_the_same() -> None:
    alphabet = "aZ09_ \t\n\r\x0b\x0c\x1c\x1f\x00\x7f{}()=.,'\"-+*/#@$%^&|~`"
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        text += "abcdefghij" * rng.randint(0, 2) + "1234567" * rng.randint(0, 2)
        assert count_tokens(text) == by_pieces(text), repr(text)


def test_random_non_ascii_text_counts_the_same() -> None:
    # Accents, CJK, the packet's own "·" and "…", and the non-ASCII spaces and digits that the
    # regex treats differently from a symbol (those texts take the regex path).
    alphabet = "ab Z9_\n.(é漢·…“”\u00a0\u2028\u3000١٢²\ud800"
    rng = random.Random(11)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        assert count_tokens(text) == by_pieces(text), repr(text)
    packet = "- `src/a.py:1-9` · `Handler` · `def run(self) …`: named in the request “run”\n"
    assert count_tokens(packet) == by_pieces(packet)


def test_words_numbers_and_symbols_are_priced_as_documented() -> None:
    assert count_tokens("") == 0
    assert count_tokens("   ") == 1  # never below one for non-empty text
    assert count_tokens("return value") == 2  # short words: one each
    assert count_tokens("internationalisation") == 5  # 20 letters: one per four
    assert count_tokens("2026") == 2 and count_tokens("123") == 1
    assert count_tokens("a(b)\n") == 5  # symbols and the newline: one each
    assert count_tokens("héllo") == by_pieces("héllo")  # non-ASCII keeps the regex path


def test_truncation_still_fits_the_budget() -> None:
    text = (SOURCES / "tokens.py").read_text(encoding="utf-8")
    cut = truncate_to_tokens(text, 120)
    assert cut.endswith("…") and count_tokens(cut) <= 122
