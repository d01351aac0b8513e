"""Conflict detection: what a request or a diff goes against, and what it does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kenning.engine.conflicts import (
    MAX_REQUEST_CHARS,
    MemoryView,
    find_conflicts,
    parse_diff,
    stance,
)


def day(iso: str) -> float:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()


CELERY = MemoryView(
    "celery-1c07",
    "decision",
    "Use Celery with Redis for background jobs",
    "Webhook deliveries and dunning run on Celery workers with Redis as broker.",
    "superseded",
    day("2025-03-04"),
)
QUEUE = MemoryView(
    "pg-queue-8d2e",
    "decision",
    "Background jobs use the PostgreSQL-backed queue; Celery is ruled out",
    "Replaces the Celery decision. We ruled out Celery (and RQ, Dramatiq, anything needing "
    "Redis) after a task ran for a rolled-back transaction.",
    "active",
    day("2025-09-22"),
)
CENTS = MemoryView(
    "cents-b41a",
    "decision",
    "Money is integer cents, never float",
    "Every amount is an integer number of minor units. Floats are allowed for display "
    "formatting only.",
    "active",
    day("2025-02-18"),
)
STRIPE = MemoryView(
    "stripe-6b0e",
    "decision",
    "Stripe is our only PSP",
    "We chose Stripe over Adyen and Mollie.",
    "active",
    day("2025-04-15"),
)
LEDGER = MemoryView(
    "ledger-d402",
    "rule",
    "Never UPDATE or DELETE ledger entries",
    "ledger_entries is append-only; corrections are reversing entries.",
    "active",
    day("2025-02-11"),
    scope=("src/ledger/**",),
)
MIGRATIONS = MemoryView(
    "migrations-91ce",
    "rule",
    "Never edit a merged migration",
    "Merged migrations are frozen; add a new numbered one.",
    "active",
    scope=("migrations/**",),
)
CONSUMERS = MemoryView(
    "idempotent-93c0",
    "rule",
    "Consumers must be idempotent",
    "Every consumer dedupes on event_id; duplicates happen.",
    "active",
    scope=("consumers/**",),
)
DEPLOYS = MemoryView(
    "deploys-5d12", "decision", "Production deploys on Tuesdays and Thursdays only", ""
)
REGION = MemoryView(
    "eu-only-55a0", "decision", "All data stays in eu-central-1", "We deploy only to eu-central-1."
)
TOKENS = MemoryView(
    "ttl-64b1", "decision", "API access tokens live 15 minutes", "Refresh tokens live 30 days."
)
DEPS = MemoryView(
    "deps-5b13",
    "preference",
    "Never add a dependency without asking first",
    "Ask before adding anything to pyproject.toml or package.json.",
)
NO_LOG = MemoryView(
    "no-log-c3e8",
    "rule",
    "Never log session ids, tokens or passwords",
    "Log user ids only.",
    scope=("src/auth/**",),
)

ALL = [CELERY, QUEUE, CENTS, STRIPE, LEDGER, MIGRATIONS, CONSUMERS, DEPLOYS, REGION, TOKENS]


def refs(request: str, memories: list[MemoryView] | None = None, **kw: object) -> list[str]:
    return [c.ref for c in find_conflicts(request, memories or ALL, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("move the webhook retries onto a Celery task", ["pg-queue-8d2e"]),
        ("use Dramatiq for the PDF jobs", ["pg-queue-8d2e"]),
        ("store the VAT amount as a float in compute_total", ["cents-b41a"]),
        ("add Mollie as a second payment provider", ["stripe-6b0e"]),
        ("ship the hotfix to production on Saturday", ["deploys-5d12"]),
        ("add a read replica in us-east-1 for the US customers", ["eu-only-55a0"]),
        ("bump the access token lifetime to 24h", ["ttl-64b1"]),
    ],
)
def test_requests_that_ask_for_what_a_memory_rules_out_conflict(
    request_text: str, expected: list[str]
) -> None:
    assert refs(request_text) == expected


@pytest.mark.parametrize(
    "request_text",
    [
        "make sure the job queue stays on Postgres and we don't use Celery",
        "keep the PDF jobs on the postgres queue instead of Celery",
        "remove the last Celery leftovers: the beat schedule and the celery extra",
        "convert the last float in the tax code to integer cents",
        "format the total as a float with two decimals for display only",
        "why did we rule out Celery again?",
        "plan the release for next Tuesday morning",
        "refresh the access token a minute before its 15 minute expiry",
        "add retries with backoff to the webhook sender",
    ],
)
def test_negated_consistent_or_informational_requests_do_not(request_text: str) -> None:
    assert refs(request_text) == []


def test_a_conflict_names_the_memory_its_date_and_the_sentence() -> None:
    (conflict,) = find_conflicts("use RQ for the PDF rendering jobs", ALL)
    assert conflict.ref == "pg-queue-8d2e"
    assert conflict.date == "2025-09-22"
    assert "RQ" in conflict.sentence
    assert conflict.how == "prohibition"
    assert "rq" in conflict.reason.lower()
    assert conflict.to_dict()["sentence"] == conflict.sentence


def test_reviving_a_superseded_choice_conflicts_with_its_replacement_only() -> None:
    old = MemoryView(
        "three-retries",
        "decision",
        "Retry failed webhooks three times, 60s apart",
        "Three fixed retries, then drop.",
        "superseded",
        superseded_by="backoff",
    )
    new = MemoryView(
        "backoff",
        "decision",
        "Webhook retries: exponential backoff with jitter",
        "Eight attempts, then dead-letter.",
    )
    found = find_conflicts("go back to three fixed retries a minute apart", [old, new])
    assert [(c.ref, c.how) for c in found] == [("backoff", "superseded")]
    assert refs("show the retry schedule of each delivery in the dashboard", [old, new]) == []


def test_a_scoped_rule_applies_only_to_touched_paths_in_its_scope() -> None:
    request = "log the session id when a login fails"
    assert refs(request, [NO_LOG], files=["src/auth/login.py"]) == ["no-log-c3e8"]
    assert refs(request, [NO_LOG], files=["src/cli.py"]) == []


def test_a_diff_is_read_line_by_line() -> None:
    diff = (
        "--- a/src/ledger/corrections.py\n+++ b/src/ledger/corrections.py\n@@ -1,2 +1,3 @@\n"
        '+    conn.execute("UPDATE ledger_entries SET amount_cents = %s", (cents,))\n'
    )
    (conflict,) = find_conflicts("fix the amount in place", [LEDGER], diff=diff)
    assert (conflict.ref, conflict.how) == ("ledger-d402", "diff")
    reversing = diff.replace("UPDATE ledger_entries SET", "INSERT INTO ledger_entries VALUES")
    assert refs("fix the amount", [LEDGER], diff=reversing) == []


def test_editing_a_frozen_file_conflicts_and_adding_a_new_one_does_not() -> None:
    edit = "--- a/migrations/0007_customers.sql\n+++ b/migrations/0007_customers.sql\n+  x int,\n"
    new = "--- /dev/null\n+++ b/migrations/0042_shipments.sql\n+CREATE TABLE shipments ();\n"
    assert [c.how for c in find_conflicts("fix a typo", [MIGRATIONS], diff=edit)] == ["edit"]
    assert refs("add the shipments table", [MIGRATIONS], diff=new) == []


def test_added_code_must_do_what_a_scoped_rule_requires() -> None:
    missing = (
        "--- /dev/null\n+++ b/consumers/paid.py\n"
        "+def handle(event, conn):\n+    conn.execute('INSERT INTO payments ...')\n"
    )
    present = missing.replace("INSERT INTO payments ...", "INSERT ... ON CONFLICT (event_id)")
    assert [c.how for c in find_conflicts("record payments", [CONSUMERS], diff=missing)] == [
        "requirement"
    ]
    assert refs("record payments", [CONSUMERS], diff=present) == []


def test_a_met_precondition_lifts_a_ban() -> None:
    assert refs("add pendulum to pyproject", [DEPS]) == ["deps-5b13"]
    assert refs("Priya approved it: add pendulum to pyproject", [DEPS]) == []


def test_inactive_and_non_binding_memories_are_never_reported() -> None:
    note = MemoryView("note-1", "note", "Never use floats", "A note, not a decision.")
    retired = MemoryView("old-1", "decision", "Never use floats", "", "retired")
    assert refs("store the total as a float", [note, retired, CELERY]) == []


def test_stance_reads_lists_and_choices() -> None:
    found = stance(STRIPE.title, STRIPE.text)
    assert {b.words for b in found.bans} >= {("adyen",), ("molli",)}
    ledger = stance(LEDGER.title, LEDGER.text)
    assert any(b.verb == "updat" for b in ledger.bans)


def test_parse_diff_separates_added_lines_and_created_files() -> None:
    parsed = parse_diff(
        "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-old\n+new\n--- /dev/null\n+++ b/y.py\n+fresh\n"
    )
    assert parsed.added == "new\nfresh"
    assert parsed.removed == "old"
    assert parsed.modified == ("x.py",)
    assert parsed.created == ("y.py",)
    assert parse_diff("just a plan: switch to celery").added == "just a plan: switch to celery"
    assert parse_diff(None).added == ""


@pytest.mark.parametrize("request_text", ["", "   ", "\x00\x01\xff", "これは何ですか"])
def test_bad_input_finds_nothing_and_does_not_fail(request_text: str) -> None:
    assert refs(request_text) == []


def test_a_megabyte_request_is_read_only_up_to_its_first_characters() -> None:
    assert refs("use celery for the jobs " + "lorem ipsum " * 90_000) == ["pg-queue-8d2e"]
    tail = "lorem ipsum " * (MAX_REQUEST_CHARS // 12 + 1) + "use celery for the jobs"
    assert refs(tail) == []


def mem(ref: str, title: str, body: str, *, scope: tuple[str, ...] = (), **kw: str) -> MemoryView:
    return MemoryView(
        ref,
        kw.get("kind", "decision"),
        title,
        body,
        kw.get("status", "active"),
        day(kw.get("created", "2025-05-01")),
        scope=scope,
    )


SMS = mem("sms-1", "Reminders go out by SMS", "We stopped sending reminder emails in May.")
SEARCH = mem("search-1", "Search uses Algolia", "We decided against running our own Elasticsearch.")
HOSTING = mem(
    "render-1",
    "Hosting is on Render",
    "We moved off Heroku. Do not add Heroku-specific config (Procfile release phases, add-ons).",
)
PYTHONS = mem("py-1", "Support Python 3.10+; 3.8 and 3.9 are dropped", "")
LOGS = mem("logs-1", "Logs go to Loki; we dropped the ELK stack", "")
LOADS = mem("loads-1", "Nightly loads run at 02:00 UTC", "Once a day, after the backups.")
TYPED = mem(
    "typed-1",
    "Public functions must have type hints",
    "Everything under src/ is annotated.",
    kind="rule",
    scope=("src/**",),
)
TTL = mem("ttl-1", "Price caches", "Any cache of FX rates has a TTL of 5 minutes or less.")
FLAGS = mem("flags-1", "Release flags", "Release flags are deleted within 30 days of full rollout.")


def found(text: str, *memories: MemoryView, diff: str | None = None) -> list[str]:
    return [c.ref for c in find_conflicts(text, list(memories), limit=5, diff=diff)]


@pytest.mark.parametrize(
    ("text", "memory"),
    [
        ("bring back the reminder emails", SMS),
        ("run our own Elasticsearch cluster for search", SEARCH),
        ("add a Procfile release phase for migrations", HOSTING),
        ("re-add Python 3.9 to the CI matrix", PYTHONS),
        ("ship the service logs to Elasticsearch with filebeat", LOGS),
        ("move the nightly load to 06:00 UTC", LOADS),
        ("keep the checkout release flag around forever", FLAGS),
    ],
)
def test_what_a_memory_stopped_decided_against_or_dropped_is_a_conflict(
    text: str, memory: MemoryView
) -> None:
    assert found(text, memory) == [memory.ref]


@pytest.mark.parametrize(
    ("text", "memory"),
    [
        ("send the reminders by SMS", SMS),
        ("the old Heroku review apps were handy; set up Render previews", HOSTING),
        ("changelog: Python 3.9 support was dropped", PYTHONS),
        ("add a tenant label to the Loki queries", LOGS),
        ("the nightly load at 02:00 UTC failed, rerun it", LOADS),
        ("python 3.11 is fine, add it to the matrix", PYTHONS),
    ],
)
def test_agreeing_or_quoting_history_is_not_a_conflict(text: str, memory: MemoryView) -> None:
    assert found(text, memory) == []


def test_a_public_def_without_type_hints_breaks_a_typed_code_rule_in_its_scope() -> None:
    untyped = "--- a/src/api.py\n+++ b/src/api.py\n@@ -1 +1,2 @@\n+def fetch(url, timeout=None):\n"
    typed = untyped.replace(
        "(url, timeout=None):", "(url: str, timeout: float | None = None) -> bytes:"
    )
    private = untyped.replace("def fetch", "def _fetch")
    outside = untyped.replace("src/api.py", "tools/api.py")
    assert found("add a fetch helper", TYPED, diff=untyped) == ["typed-1"]
    assert found("add a fetch helper", TYPED, diff=typed) == []
    assert found("add a fetch helper", TYPED, diff=private) == []
    assert found("add a fetch helper", TYPED, diff=outside) == []


def test_a_duration_set_in_code_is_held_to_the_memory_bound() -> None:
    diff = "--- a/fx.py\n+++ b/fx.py\n@@ -1 +1,2 @@\n+_rates = TTLCache(maxsize=64, ttl={})\n"
    assert found("cache the FX rates", TTL, diff=diff.format(3600)) == ["ttl-1"]
    assert found("cache the FX rates", TTL, diff=diff.format(120)) == []


PUBSUB = mem("pubsub-1", "Fan-out through Phoenix PubSub", "We ruled out Redis pub/sub.")
ENV = mem(
    "env-1",
    "Never call env() outside config files",
    "App code calls config().",
    kind="rule",
    scope=("app/**",),
)
DEPLOYS = mem("deploy-1", "Deploys Monday to Thursday only", "No deploys on Fridays or weekends.")
BACKUPS = mem("backup-1", "Backups are kept for 35 days", "Then they expire.")


def test_a_short_slash_compound_is_one_thing_not_two() -> None:
    assert found("use Redis pub/sub for room events", PUBSUB) == ["pubsub-1"]
    assert found("broadcast room events over Phoenix PubSub", PUBSUB) == []


def test_outside_names_the_only_place_a_thing_is_allowed() -> None:
    controller = ["app/Http/Controllers/PaymentController.php"]
    hits = find_conflicts("read env('STRIPE_KEY') in the controller", [ENV], files=controller)
    assert [c.ref for c in hits] == ["env-1"]
    assert find_conflicts("read env('STRIPE_KEY')", [ENV], files=["config/services.php"]) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deploy the hotfix on Saturday morning", ["deploy-1"]),
        ("deploy on Friday afternoon", ["deploy-1"]),
        ("schedule the deploy for Tuesday after standup", []),
        ("deploy the fix today", []),
    ],
)
def test_a_ban_on_some_days_applies_on_those_days_only(text: str, expected: list[str]) -> None:
    assert found(text, DEPLOYS) == expected


def test_what_we_used_to_do_is_history_not_a_request() -> None:
    assert found("keep the nightly backups for 90 days", BACKUPS) == ["backup-1"]
    assert found("the postmortem should say we used to keep backups for 14 days", BACKUPS) == []


MALLOC = mem(
    "malloc-1",
    "No dynamic allocation after boot",
    "malloc() and free() are not allowed outside init code; use the static pools.",
    kind="rule",
    scope=("firmware/src/**",),
)
TOKENS = mem(
    "tokens-1",
    "Colors come from design tokens",
    "No hex colors in component styles; use var(--color-*) tokens.",
    kind="rule",
    scope=("packages/ui/**",),
)
IDS = mem("ids-1", "Primary keys are UUIDv7", "No auto-increment integer ids in new tables.")


def one_line(path: str, line: str) -> str:
    return f"--- a/{path}\n+++ b/{path}\n@@ -1 +1,2 @@\n+{line}\n"


def test_a_call_banned_outside_some_code_is_allowed_there() -> None:
    radio = one_line("firmware/src/radio.c", "    uint8_t *buf = malloc(len);")
    init = one_line("firmware/src/init.c", "    pool = malloc(POOL_SIZE);")
    assert found("allocate the buffer", MALLOC, diff=radio) == ["malloc-1"]
    assert found("allocate the pools at boot", MALLOC, diff=init) == []


def test_a_hex_colour_literal_is_a_hex_color() -> None:
    css = one_line("packages/ui/src/Button.css", "  background: #ff6600;")
    assert found("tint the button", TOKENS, diff=css) == ["tokens-1"]
    tokens = one_line("packages/ui/src/Button.css", "  background: var(--color-accent);")
    assert found("tint the button", TOKENS, diff=tokens) == []


def test_sql_integer_types_are_integers() -> None:
    assert found("create the events table with an auto-increment bigint id", IDS) == ["ids-1"]
    assert found("create the events table with a uuid7 id", IDS) == []


def test_the_quote_is_the_whole_sentence_as_written() -> None:
    # An ellipsis inside a code span ends no sentence; parentheses are quoted as written; a
    # long sentence is cut at a word, on one line.
    money = MemoryView(
        "money-b41a",
        "decision",
        "Money is integer cents",
        "Every amount is an integer number of minor units (`Money(cents, currency)`), in SQL\n"
        "(`bigint ... _cents` columns, never `numeric` or `float`), in the JSON API and in the "
        "dashboard, in every export to the accounting package, and in every report we send. "
        "Decided after the pilot.",
        "active",
        day("2025-02-18"),
    )
    [conflict] = find_conflicts("store the VAT amount as a float", [money])
    quote = conflict.reason.split("says: ", 1)[1]
    assert quote.startswith("“Every amount is an integer number of minor units (`Money(cents,")
    assert "(`bigint ... _cents` columns, never `numeric` or `float`)" in quote
    assert "\n" not in quote and quote.endswith(" …”")
    assert quote.rsplit(" ", 2)[-2] in conflict.sentence.split()  # cut at a whole word
