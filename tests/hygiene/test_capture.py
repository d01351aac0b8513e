"""Capture proposes memories only from explicit cues, and says where each came from."""

from __future__ import annotations

from kenning.hygiene.capture import propose_memories

SESSION = """User: the sender blocks requests. should we move it to Celery?
Assistant: We could use Celery, or a jobs table in Postgres.
User: We decided to keep background jobs on the Postgres queue, because a job
commits with its data. Don't worry about Celery.
Assistant: I'll always make the jobs idempotent.
User: perfect. also never log the webhook payloads.
```python
# never do this in a test
```
> Never quote me on this.
User: I prefer small PRs over big ones. Maybe we should drop the ORM?
Decision: retries use exponential backoff capped at 60 seconds
"""


def test_cues_make_proposals_with_kind_title_and_line() -> None:
    got = [(p.kind, p.title, p.line) for p in propose_memories(SESSION, "chat.md")]
    assert got == [
        ("decision", "Keep background jobs on the Postgres queue", 3),
        ("rule", "Never log the webhook payloads", 6),
        ("preference", "I prefer small PRs over big ones", 11),
        ("decision", "Retries use exponential backoff capped at 60 seconds", 12),
    ]


def test_questions_code_quotes_promises_and_asides_propose_nothing() -> None:
    text = (
        "Should we always use tabs?\n```\nnever = True\n```\n> always rebase\n"
        "Assistant: I'll always run the tests.\nI don't know why. Don't worry about it.\n"
    )
    assert propose_memories(text, "x") == []


def test_an_adr_decision_section_is_one_decision_titled_by_the_adr() -> None:
    adr = (
        "# ADR-7: Store timestamps in UTC\n\n## Context\nReports drifted.\n\n## Decision\n"
        "All timestamps are stored in UTC as timestamptz.\n\n## Consequences\nNone.\n"
    )
    [proposal] = propose_memories(adr, "adr-7.md")
    assert proposal.kind == "decision" and proposal.title == "Store timestamps in UTC"
    assert proposal.text == "All timestamps are stored in UTC as timestamptz."


def test_in_commit_messages_only_always_and_never_imperatives_count() -> None:
    body = "* Don't treat count options as needing a value.\n* Always rewind files on upload.\n"
    assert [p.title for p in propose_memories(body, "commit:abc", commit=True)] == [
        "Always rewind files on upload"
    ]
    assert len(propose_memories(body, "notes.md")) == 2
