"""A date the request names lifts the memories written then."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kenning.engine.dates import date_window
from kenning.engine.retrieve import MEMORY_KINDS, Weights
from kenning.memory import Memory, render_memory
from kenning.workspace import Workspace


def _day(text: str) -> tuple[str, str] | None:
    window = date_window(text)
    if window is None or window.month is not None:
        return None
    start, end = (
        datetime.fromtimestamp(t, UTC).date().isoformat() for t in (window.start, window.end)
    )
    return start, end


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("what did we decide on 13 October 2023?", ("2023-10-13", "2023-10-14")),
        ("the call on October 13, 2023", ("2023-10-13", "2023-10-14")),
        ("the 1st of February, 2023 outage", ("2023-02-01", "2023-02-02")),
        ("the 2023-10-13 release", ("2023-10-13", "2023-10-14")),
        ("the migration in December 2023", ("2023-12-01", "2024-01-01")),
        ("what changed in 2022", ("2022-01-01", "2023-01-01")),
    ],
)
def test_named_days_months_and_years(text: str, period: tuple[str, str]) -> None:
    assert _day(text) == period


def test_a_month_alone_is_that_month_of_any_year_and_may_needs_its_capital() -> None:
    june = date_window("when did we pin the driver in June?")
    assert june is not None and june.month == 6
    assert june.closeness(datetime(2021, 6, 30, tzinfo=UTC).timestamp()) == 1.0
    assert june.closeness(datetime(2021, 7, 1, tzinfo=UTC).timestamp()) == 0.0
    assert date_window("we may move the cache in may") is None
    may = date_window("the cache we moved in May")
    assert may is not None and may.month == 5
    assert date_window("fix the retry loop") is None
    assert date_window("31 February 2023") is None


def test_closeness_fades_outside_a_named_day() -> None:
    window = date_window("on 13 October 2023")
    assert window is not None
    inside = datetime(2023, 10, 13, 18, tzinfo=UTC).timestamp()
    week_later = datetime(2023, 10, 21, tzinfo=UTC).timestamp()
    assert window.closeness(inside) == 1.0
    assert 0.3 < window.closeness(week_later) < 0.4  # e^-1 a week past the day


def test_the_memory_written_in_the_named_month_leads(tmp_path: Path) -> None:
    folder = tmp_path / ".kenning" / "memories" / "decision"
    folder.mkdir(parents=True)
    notes = {
        "march": ("Keep the rate table in Redis.", datetime(2024, 3, 12, tzinfo=UTC)),
        "june": ("Cache the rate table in Redis.", datetime(2024, 6, 3, tzinfo=UTC)),
        "other": ("Invoices are numbered per tenant.", datetime(2024, 3, 12, 9, tzinfo=UTC)),
    }  # fmt: skip
    for ref, (title, when) in notes.items():
        memory = Memory(id=ref, kind="decision", title=title, created=when, updated=when)
        (folder / f"{ref}.md").write_text(render_memory(memory))
    ws = Workspace.open(tmp_path)
    ws.index(embed=False)
    request = "what did we decide about the rate table cache in March 2024?"
    plain = ws.engine.retriever.search(
        request, MEMORY_KINDS, k=3, use_dense=False, weights=Weights(when=0.0, recency=0.0)
    )
    assert [h.ref for h in plain][:2] == ["june", "march"]  # "cache" matches only June's
    dated = ws.engine.retriever.search(
        request, MEMORY_KINDS, k=3, use_dense=False, weights=Weights(recency=0.0)
    )
    assert [h.ref for h in dated][0] == "march"
    assert dated[0].ranks.get("when") == 1
    assert dated[0].named == "written when the request says (March 2024)"
    ws.close()
