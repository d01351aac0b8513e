"""The team store on a real PostgreSQL: the Store interface, scopes, permissions, search."""

from __future__ import annotations

import pytest
from synchelp import FakeEmbedder

from kenning.errors import InvalidMemory, MemoryNotFound
from kenning.memory import MemoryStore
from kenning.sync.errors import StoreUnavailable
from kenning.sync.pgstore import Principal, TeamDatabase
from kenning.sync.store import Store

APP = "github.com/acme/app"
OTHER = "github.com/acme/other"


@pytest.fixture
def db(pg_url: str) -> TeamDatabase:
    database = TeamDatabase(pg_url, embedder=FakeEmbedder())
    yield database
    database.close()


def test_both_stores_satisfy_the_store_protocol(db: TeamDatabase, tmp_path) -> None:
    assert isinstance(MemoryStore(tmp_path, tmp_path), Store)
    assert isinstance(db.store(Principal("ana", APP)), Store)


def test_migrations_create_the_tables_once_and_enable_vectors(pg_url: str) -> None:
    first = TeamDatabase(pg_url, embedder=FakeEmbedder())
    second = TeamDatabase(pg_url, embedder=FakeEmbedder())
    names = first.run(
        lambda c: [r[0] for r in c.execute("SELECT name FROM _kenning_migrations ORDER BY name")]
    )
    assert names == ["0001_core", "0002_vectors_256", "0003_row_level_security"]
    assert first.vector_dim == second.vector_dim == 256
    first.close()
    second.close()


def test_add_get_update_retire_round_trip_with_author(db: TeamDatabase) -> None:
    ana = db.store(Principal("ana", APP))
    memory = ana.add(
        "Money is integer cents\nNever floats.", "rule", scope=["src/billing/**"], tags=["money"]
    )
    assert memory.title == "Money is integer cents" and memory.body == "Never floats."
    assert memory.extra["author"] == "ana" and memory.extra["project"] == APP
    assert ana.add("Money is integer cents\nNever floats.", "rule").id == memory.id  # no copy
    ben = db.store(Principal("ben", APP))
    assert ben.get(memory.id).scope == ("src/billing/**",)
    edited = ben.update(memory.id, body="Never floats; use Decimal only at the edges.")
    assert edited.extra["author"] == "ana" and edited.extra["updated_by"] == "ben"
    assert ana.retire(memory.id).status == "retired"
    assert [m.id for m in ana.all(include_inactive=False)] == []
    newer = ana.add("Money is integer cents, v2", "rule", supersedes=memory.id)
    assert newer.supersedes == memory.id and ana.get(memory.id).status == "superseded"
    with pytest.raises(InvalidMemory):
        ana.add("x", "rule", supersedes="no-such-id")


def test_personal_memories_are_never_visible_to_another_user(db: TeamDatabase) -> None:
    ana = db.store(Principal("ana", APP))
    ben = db.store(Principal("ben", APP))
    secret = ana.add("Ana prefers tabs secretly", "preference", personal=True)
    assert secret.personal and ana.get(secret.id).id == secret.id
    with pytest.raises(MemoryNotFound):
        ben.get(secret.id)
    with pytest.raises(MemoryNotFound):
        ben.update(secret.id, body="stolen")
    assert secret.id not in {m.id for m in ben.all()}
    assert ben.search("tabs secretly") == []
    assert [h.memory.id for h in ana.search("tabs secretly")] == [secret.id]
    # Ana's personal memories follow her into another project.
    assert db.store(Principal("ana", OTHER)).get(secret.id).id == secret.id


def test_project_memories_stay_in_their_project_and_team_memories_are_everywhere(
    db: TeamDatabase,
) -> None:
    app = db.store(Principal("ana", APP))
    other = db.store(Principal("ana", OTHER))
    local = app.add("The app deploys with Helm", "fact")
    shared = app.add("We review every PR within a day", "rule", team=True)
    assert shared.extra["visibility"] == "team"
    with pytest.raises(MemoryNotFound):
        other.get(local.id)
    assert other.get(shared.id).id == shared.id
    with pytest.raises(InvalidMemory, match="no project"):
        db.store(Principal("ana", None)).add("x y", "fact")


def test_search_fuses_words_and_meaning(db: TeamDatabase) -> None:
    s = db.store(Principal("ana", APP))
    retry = s.add("Webhook sender retries with exponential backoff", "decision")
    s.add("Invoices are rendered as PDF", "fact")
    hits = s.search("retries for the webhook sender")
    assert hits[0].memory.id == retry.id and "words" in hits[0].why and "meaning" in hits[0].why
    assert s.search("webhook", kinds=["fact"]) == []


def test_fts_only_when_vectors_are_disabled(pg_url: str) -> None:
    db = TeamDatabase(pg_url, vectors=False)
    assert db.vector_dim is None
    s = db.store(Principal("ana", APP))
    hit = s.add("Webhook sender retries with exponential backoff", "decision")
    [found] = s.search("webhook retries")
    assert found.memory.id == hit.id and found.why == "words"
    db.close()


def test_fts_only_on_a_postgresql_without_pgvector(system_pg_cluster: object) -> None:
    url = system_pg_cluster.create_database("fts_only")  # type: ignore[attr-defined]
    db = TeamDatabase(url, embedder=FakeEmbedder())  # vectors=None: use them if present
    assert db.vector_dim is None
    s = db.store(Principal("ana", APP))
    hit = s.add("Webhook sender retries with exponential backoff", "decision")
    assert [h.memory.id for h in s.search("webhook retries")] == [hit.id]
    db.close()
    with pytest.raises(StoreUnavailable, match="no pgvector"):
        TeamDatabase(url, vectors=True, embedder=FakeEmbedder())


def test_a_database_restart_during_writes_loses_nothing(pg_cluster: object, pg_url: str) -> None:
    import threading

    db = TeamDatabase(pg_url, embedder=FakeEmbedder(), retry_seconds=30)
    s = db.store(Principal("ana", APP))
    written: list[str] = []
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(40):
                memory = s.add(f"note {worker}-{n} about restarts", "note")
                written.append(memory.id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    while len(written) < 20 and not errors:
        threading.Event().wait(0.01)
    pg_cluster.restart(mode="immediate")  # type: ignore[attr-defined]
    for t in threads:
        t.join()
    assert errors == []
    stored = {m.id for m in s.all()}
    assert len(written) == 160 and set(written) == stored
    assert db.retries > 0
    db.close()


def test_row_level_security_hides_other_users_rows_even_from_an_unfiltered_query(
    pg_url: str,
) -> None:
    import psycopg

    admin = TeamDatabase(pg_url, embedder=FakeEmbedder())  # migrations, as the superuser
    admin.close()
    role = f"app_{pg_url.rsplit('/', 1)[1]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}")
    app_url = pg_url.replace("postgresql://postgres@", f"postgresql://{role}@")
    db = TeamDatabase(app_url, embedder=FakeEmbedder())  # an ordinary role: row security binds
    try:
        ana, ben = Principal("ana", APP), Principal("ben", APP)
        secret = db.store(ana).add("Ana's private note", "note", personal=True)
        shared = db.store(ana).add("The project note", "note")

        def everything(conn: psycopg.Connection) -> set[str]:
            return {r[0] for r in conn.execute("SELECT id FROM kenning_memories")}  # no filter

        assert db.run(everything, spaces=ben.spaces) == {shared.id}
        assert db.run(everything, spaces=ana.spaces) == {shared.id, secret.id}
        assert db.run(everything) == set()  # no spaces set: nothing (fail closed)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.run(
                lambda c: c.execute(
                    "UPDATE kenning_memories SET space = 'user:ana' WHERE id = %s", (shared.id,)
                ),
                spaces=ben.spaces,
            )
    finally:
        db.close()


def test_an_ordinary_role_without_pgvector_enabled_falls_back_to_full_text(
    pg_cluster: object,
) -> None:
    import psycopg

    admin_url = pg_cluster.url()  # type: ignore[attr-defined]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE team_owner LOGIN")
        conn.execute("CREATE DATABASE team_owned OWNER team_owner")
    url = pg_cluster.url("team_owned", user="team_owner")  # type: ignore[attr-defined]
    db = TeamDatabase(url, embedder=FakeEmbedder())
    try:
        assert db.vector_dim is None and "CREATE EXTENSION vector" in db.notes[0]
        s = db.store(Principal("ana", APP))
        hit = s.add("Webhook sender retries with exponential backoff", "decision")
        assert [h.memory.id for h in s.search("webhook retries")] == [hit.id]
    finally:
        db.close()
    with pytest.raises(StoreUnavailable, match="needs a superuser"):
        TeamDatabase(url, vectors=True, embedder=FakeEmbedder())
