"""File ranking on a small real git repository where the files a change touches are known."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kenning.engine.filerank import (
    FileWeights,
    RankedFile,
    core_name,
    is_test_path,
    order_by_files,
    path_words,
    request_identifiers,
    spread_over_files,
    stem,
)
from kenning.index.terms import query_terms
from kenning.workspace import Workspace

FILES = {
    "shop/__init__.py": "",
    "shop/pricing.py": '''"""Prices, discounts and coupon codes."""


def apply_discount(total: int, percent: int) -> int:
    """The total in cents after a percentage discount."""
    return total - total * percent // 100


def redeem_coupon(code: str, total: int) -> int:
    """Apply a coupon code at checkout; unknown coupon codes are ignored."""
    if code.startswith("SAVE"):
        return apply_discount(total, int(code[4:]))
    return total
''',
    "shop/cart.py": '''"""The shopping cart."""

from shop.pricing import apply_discount


class Cart:
    def __init__(self) -> None:
        self.items: list[tuple[str, int]] = []

    def add_item(self, name: str, cents: int) -> None:
        self.items.append((name, cents))

    def total(self) -> int:
        return sum(cents for _, cents in self.items)
''',
    "shop/shipping.py": '''"""Shipping rates by parcel weight."""


def shipping_rate(grams: int) -> int:
    """Cents to ship a parcel: heavier parcels cost more."""
    return 500 if grams < 2000 else 1200
''',
    "shop/emails.py": '''"""Order confirmation emails."""


def confirmation_email(order_id: str) -> str:
    return f"Thank you for order {order_id}"
''',
    # The test never says "coupon": only its name and its history tie it to pricing.py.
    "tests/test_pricing.py": """from shop.pricing import apply_discount


def test_ten_percent_off() -> None:
    assert apply_discount(1000, 10) == 900
""",
    "tests/test_cart.py": """from shop.cart import Cart


def test_total_adds_items() -> None:
    cart = Cart()
    cart.add_item("tea", 300)
    assert cart.total() == 300
""",
}

REQUEST = "Reject an expired coupon code at checkout"
GOLD = ("shop/pricing.py", "tests/test_pricing.py")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True)


def _commit(root: Path, message: str) -> None:
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message)


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Workspace]:
    """The shop repository with a history where pricing and its test change together."""
    root = tmp_path / "shop"
    root.mkdir()
    _git(root, "init", "-q")
    for path, text in FILES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    _commit(root, "first version")
    for n in range(3):
        for path in GOLD:
            with (root / path).open("a") as f:
                f.write(f"\n# revision {n}\n")
        _commit(root, f"pricing revision {n}")
    ws = Workspace.open(root)
    ws.index(embed=False)
    yield ws
    ws.close()


def _ranked(ws: Workspace, request: str) -> list[RankedFile]:
    ws.search(request, kind="code", k=10)
    return ws.engine.retriever.ranked_files


def test_the_file_that_names_the_request_leads_and_its_test_follows(shop: Workspace) -> None:
    ranked = [f.path for f in _ranked(shop, REQUEST)]
    assert ranked[0] == "shop/pricing.py"
    # Not a word of the request is in the test: its pairing and co-change history bring it in.
    assert "tests/test_pricing.py" in ranked[:3]
    assert ranked.index("tests/test_pricing.py") < ranked.index("tests/test_cart.py")


def test_a_paired_test_says_why_it_is_there(shop: Workspace) -> None:
    test = next(f for f in _ranked(shop, REQUEST) if f.path == "tests/test_pricing.py")
    assert {"pair", "neighbour"} & set(test.signals)
    assert "test or source" in test.why() or "changes together" in test.why()


def test_code_search_lists_chunks_in_file_order(shop: Workspace) -> None:
    hits = shop.search(REQUEST, kind="code", k=10)
    paths = list(dict.fromkeys(h.path for h in hits))
    assert paths[:2] == list(GOLD)


def test_a_path_word_ranks_its_file(shop: Workspace) -> None:
    ranked = [f.path for f in _ranked(shop, "heavier parcels should ship cheaper")]
    assert ranked[0] == "shop/shipping.py"


def test_the_brief_holds_the_changed_files(shop: Workspace) -> None:
    packet = shop.brief(REQUEST, budget=2000)
    paths = [i.ref.rsplit(":", 1)[0] for i in packet.items if i.kind in ("symbol", "file")]
    assert set(GOLD) <= set(paths)
    assert packet.tokens <= 2000


def test_a_file_that_defines_a_name_the_request_gives_is_ranked_for_it(shop: Workspace) -> None:
    ranked = _ranked(shop, "`confirmation_email` must not be sent twice for one checkout")
    emails = next(f for f in ranked if f.path == "shop/emails.py")
    assert emails.signals.get("defines", 0) > 0
    assert (
        RankedFile("x.py", 1.0, {"defines": 1.0}).why(short=True) == "defines a name in the request"
    )
    assert all("defines" not in f.signals for f in ranked if f.path != "shop/emails.py")


def test_request_identifiers_weigh_code_like_names_over_plain_words() -> None:
    names = request_identifiers("Add `pathlib.Path` support to edit; keep redeem_coupon as is")
    assert names["Path"] == names["pathlib"] == names["redeem_coupon"] == 1.0
    assert names["edit"] == names["support"] == 0.5
    assert "Add" not in names and "to" not in names


def test_an_acronym_in_capitals_is_a_plain_word_unless_quoted_as_code() -> None:
    names = request_identifiers("the two BM25 searches over HTTP; ParamType and `JSON` and getURL")
    assert names["BM25"] == names["HTTP"] == 0.5  # prose acronyms
    assert names["ParamType"] == names["getURL"] == names["JSON"] == 1.0


def test_a_memory_search_ranks_no_files(shop: Workspace) -> None:
    shop.search(REQUEST, kind="code")
    shop.search(REQUEST, kind="memory")
    # The last code search's ranking stays readable; a memory search does not touch it.
    assert shop.engine.retriever.ranked_files[0].path == "shop/pricing.py"


def test_stems_and_path_words_match_plurals_and_identifier_parts() -> None:
    assert stem("timeouts") == stem("timeout")
    assert stem("policies") == stem("policy")
    assert stem("class") == "class"
    assert {"http", "client", "test", "timeout"} <= path_words("tests/test_HTTPClient_timeouts.py")


def test_core_names_pair_sources_with_their_tests() -> None:
    assert core_name("httpx/_client.py") == core_name("tests/test_client.py") == "client"
    assert core_name("pkg/parser_test.go") == "parser"
    assert core_name("web/src/App.test.tsx") == "app"
    assert is_test_path("tests/models/test_url.py")
    assert is_test_path("pkg/parser_test.go")
    assert not is_test_path("src/contest.py")


@dataclass
class _Hit:
    path: str
    score: float


def test_order_by_files_follows_the_file_ranking_and_keeps_the_scale() -> None:
    hits = [_Hit("a.py", 0.09), _Hit("a.py", 0.08), _Hit("b.py", 0.02), _Hit("memo.md", 0.05)]
    files = [RankedFile("b.py", 1.0), RankedFile("a.py", 0.6)]
    ordered = order_by_files(hits, files)
    assert [h.path for h in ordered][:2] == ["b.py", "a.py"]
    # Ranked files' hits are rescaled into the best such hit's score; others keep theirs.
    assert max(h.score for h in ordered) <= 0.09
    assert next(h for h in ordered if h.path == "memo.md").score == 0.05


def test_spread_halves_each_further_chunk_of_a_file() -> None:
    hits = [_Hit("a.py", 1.0), _Hit("a.py", 0.9), _Hit("a.py", 0.8), _Hit("b.py", 0.4)]
    ordered = spread_over_files(hits)
    assert [(h.path, round(h.score, 3)) for h in ordered] == [
        ("a.py", 1.0),
        ("a.py", 0.45),
        ("b.py", 0.4),
        ("a.py", 0.2),
    ]


def test_a_file_whose_past_commits_read_like_the_request_ranks_first(shop: Workspace) -> None:
    root = shop.project.root
    for n, message in enumerate(("Courier surcharge for Saturday deliveries", "Saturday fix")):
        with (root / "shop" / "shipping.py").open("a") as f:
            f.write(f"\n# change {n}\n")
        _commit(root, message)
    shop.index(embed=False)
    # No file's code or path says "courier" or "Saturday": only shipping.py's history does.
    request = "The Saturday courier surcharge is charged twice"
    ranked = _ranked(shop, request)
    assert ranked[0].path == "shop/shipping.py"
    assert ranked[0].signals["history"] > 0 and "past commit" in ranked[0].why()
    assert all("history" not in f.signals for f in ranked[1:] if f.path != "shop/shipping.py")
    # Without the history signal nothing ties the request to shipping.py.
    ranker = shop.engine.retriever.files
    terms = query_terms(request)
    alone = ranker.rank(terms, [], [], request=request, weights=FileWeights(history=0.0))
    assert "shop/shipping.py" not in [f.path for f in alone]
    assert ranker.rank(terms, [], [], request=request)[0].path == "shop/shipping.py"


def test_a_file_the_request_names_late_in_a_long_message_ranks_first(shop: Workspace) -> None:
    # 40 words before the file name: past the 32 search terms a request keeps.
    filler = " ".join(f"word{n}" for n in range(40))
    request = f"Measure it again. {filler}. The emails.py docstring restated."
    terms = query_terms(request)
    assert "emails" not in terms
    ranker = shop.engine.retriever.files
    ranked = ranker.rank(terms, [], [], request=request)
    assert ranked[0].path == "shop/emails.py"
    assert ranked[0].signals["mention"] > 0 and "names this file" in ranked[0].why()
    # Without the mention signal only the path word `emails` ties the request to emails.py.
    alone = ranker.rank(terms, [], [], request=request, weights=FileWeights(mention=0.0, name=0.0))
    assert "shop/emails.py" not in [f.path for f in alone]


def test_files_are_named_by_path_module_or_code_like_name(shop: Workspace) -> None:
    ranker = shop.engine.retriever.files
    ranker.refresh()
    named = ranker._mentioned(
        "Fix shop/cart.py, call shipping.shipping_rate, see test_pricing; pricing is fine; "
        "bump setup.cfg"
    )
    assert named == {
        "shop/cart.py": 1.0,
        "shop/shipping.py": 0.5,
        "tests/test_pricing.py": 0.5,
    }
    # A path that is not the file's, and a plain word, name nothing.
    assert ranker._mentioned("see other/cart.py and pricing") == {}


def test_a_path_word_late_in_a_long_request_still_names_its_file(shop: Workspace) -> None:
    filler = " ".join(f"word{n}" for n in range(40))
    request = f"Measure it again. {filler}. Then the shipping table."
    terms = query_terms(request)
    assert "shipping" not in terms  # past the 32 search terms
    ranked = shop.engine.retriever.files.rank(terms, [], [], request=request)
    assert ranked[0].path == "shop/shipping.py" and ranked[0].signals["name"] > 0
