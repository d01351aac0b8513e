"""The team store on PostgreSQL: the `Store` interface over shared tables, scoped per caller.

`TeamDatabase` owns the connections, the schema (ordered named migrations recorded in
`_kenning_migrations`), users and tokens. `TeamDatabase.store(principal)` returns a
`PostgresStore`: the memories one user may see in one project. Every memory row lives in one
*space*:

- `team`: shared by everyone on the server;
- `project:<identity key>`: shared by everyone working on that project (see `identity.py`);
- `user:<name>`: one user's personal memories, which follow them across projects.

Permissions are enforced twice. Every statement names only the caller's spaces, and under it
PostgreSQL's row-level security admits only the rows of the spaces set for the transaction
(`kenning.spaces`), so even a faulty query cannot read another user's personal memories. They
are never read, listed, searched or changed by anyone else, and not even reported as existing.
Row security does not bind a superuser: run the server as an ordinary role (the table owner is
bound too). Rows carry their author.

Search is PostgreSQL full-text (`tsvector`, GIN index) and, when the `vector` extension is
available, pgvector cosine distance over embeddings of the same local model the SQLite index
uses; the two lists are fused by reciprocal rank. Without pgvector the store works on FTS alone.

Faults: a statement that fails because the connection dropped (a database restart) is retried
on a fresh connection with backoff for `retry_seconds`. Writes are idempotent under retry (ids
are drawn before the insert, which is `ON CONFLICT DO NOTHING`), so a retried write is stored
exactly once.
"""

from __future__ import annotations

import hashlib
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from kenning.errors import InvalidMemory, MemoryNotFound
from kenning.memory import (
    _FIELD_ORDER,
    KINDS,
    Memory,
    _title_and_body,
    new_id,
    normalized,
    validate,
)
from kenning.sync.errors import StoreUnavailable, SyncError

if TYPE_CHECKING:
    import psycopg

    from kenning.index.embed import Embedder

__all__ = ["ALL_SPACES", "Principal", "PostgresStore", "SearchHit", "TeamDatabase", "hash_token"]

T = TypeVar("T")
TOKEN_PREFIX = "knt_"
_COLUMNS = (
    "id, space, visibility, project, owner, author, kind, title, body, created, updated, "
    "status, supersedes, scope, aliases, tags, source, extra"
)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is asking, and in which project (None: no project, team and personal only)."""

    user: str
    project: str | None = None

    @property
    def spaces(self) -> list[str]:
        spaces = ["team", f"user:{self.user}"]
        if self.project:
            spaces.append(f"project:{self.project}")
        return spaces


@dataclass(frozen=True)
class SearchHit:
    """One memory found by `PostgresStore.search`, with its fused score and why it matched."""

    memory: Memory
    score: float
    why: str


# ---- migrations ---------------------------------------------------------------------------

_MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_core",
        """
        CREATE TABLE kenning_users (
            name text PRIMARY KEY,
            created timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE kenning_tokens (
            token_hash text PRIMARY KEY,
            user_name text NOT NULL REFERENCES kenning_users(name),
            project text,
            label text NOT NULL DEFAULT '',
            created timestamptz NOT NULL DEFAULT now(),
            revoked_at timestamptz
        );
        CREATE TABLE kenning_memories (
            space text NOT NULL,
            id text NOT NULL,
            visibility text NOT NULL CHECK (visibility IN ('team', 'project', 'personal')),
            project text,
            owner text,
            author text NOT NULL,
            kind text NOT NULL,
            title text NOT NULL,
            body text NOT NULL DEFAULT '',
            created timestamptz NOT NULL,
            updated timestamptz NOT NULL,
            status text NOT NULL DEFAULT 'active',
            supersedes text,
            scope text[] NOT NULL DEFAULT '{}',
            aliases text[] NOT NULL DEFAULT '{}',
            tags text[] NOT NULL DEFAULT '{}',
            source text NOT NULL DEFAULT 'mcp',
            extra jsonb NOT NULL DEFAULT '{}',
            norm text NOT NULL DEFAULT '',
            labels text NOT NULL DEFAULT '',
            tsv tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', title), 'A') ||
                setweight(to_tsvector('english', body), 'B') ||
                setweight(to_tsvector('simple', labels), 'A')
            ) STORED,
            PRIMARY KEY (space, id)
        );
        CREATE INDEX kenning_memories_tsv ON kenning_memories USING gin (tsv);
        CREATE INDEX kenning_memories_norm ON kenning_memories (space, kind, norm);
        CREATE INDEX kenning_memories_id ON kenning_memories (id);
        """,
    ),
]


# Defence in depth under the filters in every statement: PostgreSQL itself only returns (and
# only accepts) rows of the spaces named in the transaction's `kenning.spaces` setting, which
# `TeamDatabase.run` sets from the caller's principal. Unset, nothing is visible (fail closed);
# "*" is the administrator's view. FORCE applies it to the table's owner too; a superuser
# bypasses row security, so the server should connect as an ordinary role.
_MIGRATIONS.append(
    (
        "0003_row_level_security",
        """
        ALTER TABLE kenning_memories ENABLE ROW LEVEL SECURITY;
        ALTER TABLE kenning_memories FORCE ROW LEVEL SECURITY;
        CREATE POLICY kenning_spaces ON kenning_memories
            USING (
                coalesce(current_setting('kenning.spaces', true), '') = '*'
                OR space = ANY (string_to_array(
                    coalesce(current_setting('kenning.spaces', true), ''), E'\\n'))
            )
            WITH CHECK (
                coalesce(current_setting('kenning.spaces', true), '') = '*'
                OR space = ANY (string_to_array(
                    coalesce(current_setting('kenning.spaces', true), ''), E'\\n'))
            );
        """,
    )
)
ALL_SPACES: tuple[str, ...] = ("*",)
"""`spaces` for administrative work that must see every row (migrations, counts, exports)."""


def _vector_migration(dim: int) -> tuple[str, str]:
    return (
        f"0002_vectors_{dim}",
        f"""
        CREATE EXTENSION IF NOT EXISTS vector;
        ALTER TABLE kenning_memories ADD COLUMN embedding vector({dim});
        CREATE INDEX kenning_memories_embedding ON kenning_memories
            USING hnsw (embedding vector_cosine_ops);
        """,
    )


# ---- connections --------------------------------------------------------------------------


class _Pool:
    """A small thread-safe pool of autocommit connections (no extra dependency)."""

    def __init__(self, url: str, size: int, connect_timeout: float) -> None:
        self.url = url
        self.connect_timeout = connect_timeout
        self._idle: queue.LifoQueue[psycopg.Connection[Any]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        import psycopg

        self._slots.acquire()
        conn: psycopg.Connection[Any] | None = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=max(1, int(self.connect_timeout))
                )
            yield conn
        except BaseException:
            if conn is not None and not conn.closed and conn.info.transaction_status != 0:
                conn.close()  # a connection left mid-transaction or broken is never reused
            raise
        finally:
            if conn is not None and not conn.closed and not self._closed:
                self._idle.put(conn)
            elif conn is not None and not conn.closed:
                conn.close()
            self._slots.release()

    def drain(self) -> None:
        """Close every idle connection (after a dropped connection they are likely dead too)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def close(self) -> None:
        self._closed = True
        self.drain()


class TeamDatabase:
    """The team server's database: schema, users, tokens, and per-caller stores.

    Args:
        url: a libpq URL, `postgresql://user@host:port/db`.
        vectors: True to require pgvector, False to use FTS only, None to use it when present.
        embedder: the text embedder for vectors (default: the bundled local model, on first use).
        pool_size: most connections held at once.
        retry_seconds: how long a statement is retried while the database is unreachable.
    """

    def __init__(
        self,
        url: str,
        *,
        vectors: bool | None = None,
        embedder: Embedder | None = None,
        pool_size: int = 8,
        retry_seconds: float = 30.0,
    ) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise SyncError(
                "the team server needs PostgreSQL's driver: pip install 'kenning[team]'"
            ) from None
        self.url = url
        self.retry_seconds = retry_seconds
        self._want_vectors = vectors
        self._embedder = embedder
        self._embed_lock = threading.Lock()
        self._pool = _Pool(url, pool_size, connect_timeout=5)
        self.vector_dim: int | None = None
        self.retries = 0
        self.notes: list[str] = []
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    # ---- plumbing ------------------------------------------------------------------------

    def run(
        self,
        work: Callable[[psycopg.Connection[Any]], T],
        *,
        transaction: bool = True,
        spaces: Sequence[str] | None = None,
    ) -> T:
        """Run `work` in one transaction, retrying on a dropped connection.

        `spaces` are the memory spaces the work may touch (a principal's `spaces`, or
        `ALL_SPACES`): row-level security admits no other rows of `kenning_memories`. Work that
        does not touch memories passes none, and may pass `transaction=False` to save the BEGIN
        and COMMIT round trips.

        Raises:
            StoreUnavailable: the database stayed unreachable for `retry_seconds`.
        """
        import psycopg

        deadline = time.monotonic() + self.retry_seconds
        delay = 0.05
        while True:
            try:
                with self._pool.connection() as conn:
                    if spaces is None and not transaction:
                        return work(conn)
                    with conn.transaction():
                        if spaces is not None:
                            # Local to this transaction: a pooled connection never carries one
                            # caller's spaces into the next caller's work.
                            conn.execute(
                                "SELECT set_config('kenning.spaces', %s, true)",
                                ("\n".join(spaces),),
                            )
                        return work(conn)
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"the team database did not answer for {self.retry_seconds:.0f}s "
                        f"({str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}); "
                        "check that PostgreSQL is running and --db is right"
                    ) from None
                self.retries += 1
                self._pool.drain()
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def close(self) -> None:
        self._pool.close()

    def _migrate(self) -> None:
        import psycopg

        def apply(conn: psycopg.Connection[Any]) -> int | None:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('kenning_migrations'))")
            # Checked first: a role without CREATE on the schema (a server connecting as an
            # ordinary role to a database set up by an administrator) must still start.
            exists = conn.execute("SELECT to_regclass('_kenning_migrations')").fetchone()
            if exists is None or exists[0] is None:
                conn.execute(
                    "CREATE TABLE _kenning_migrations ("
                    "name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
            done = {r[0] for r in conn.execute("SELECT name FROM _kenning_migrations")}
            for name, sql in _MIGRATIONS:
                if name not in done:
                    conn.execute(sql)
                    conn.execute("INSERT INTO _kenning_migrations (name) VALUES (%s)", (name,))
            have = [n for n in done if n.startswith("0002_vectors_")]
            if have:
                return int(have[0].rsplit("_", 1)[1])
            if self._want_vectors is False:
                return None
            available = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
            ).fetchone()
            if available is None:
                if self._want_vectors:
                    raise StoreUnavailable(
                        "this PostgreSQL has no pgvector extension; install it, or run without "
                        "vectors (full-text search only)"
                    )
                return None
            dim = self.embedder().dim
            name, sql = _vector_migration(dim)
            try:
                with conn.transaction():  # a savepoint: a refusal must not abort the migration
                    conn.execute(sql)
            except psycopg.errors.InsufficientPrivilege:
                # pgvector is not a trusted extension: only a superuser may create it.
                if self._want_vectors:
                    raise StoreUnavailable(
                        "creating the pgvector extension needs a superuser: run "
                        "CREATE EXTENSION vector; in this database once, or run without vectors"
                    ) from None
                self.notes.append(
                    "pgvector is installed but not enabled in this database (a superuser must "
                    "run CREATE EXTENSION vector); searching by full text only"
                )
                return None
            conn.execute("INSERT INTO _kenning_migrations (name) VALUES (%s)", (name,))
            return dim

        dim = self.run(apply)
        self.vector_dim = dim if self._want_vectors is not False else None

    def embedder(self) -> Embedder:
        if self._embedder is None:
            from kenning.index.embed import default_embedder

            self._embedder = default_embedder()
        return self._embedder

    def embed(self, text: str) -> str | None:
        """The pgvector literal of `text`'s embedding, or None when vectors are off."""
        if self.vector_dim is None:
            return None
        with self._embed_lock:
            row = self.embedder().embed([text])[0]
        return "[" + ",".join(f"{float(x):.6f}" for x in row) + "]"

    # ---- users and tokens ----------------------------------------------------------------

    def add_user(self, name: str) -> None:
        name = name.strip()
        if not name or len(name) > 100 or ":" in name:
            raise InvalidMemory(f"user name {name!r} must be 1-100 characters without ':'")
        self.run(
            lambda c: c.execute(
                "INSERT INTO kenning_users (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,)
            )
        )

    def issue_token(self, user: str, project: str | None = None, label: str = "") -> str:
        """A new bearer token for `user`, limited to `project` when given; shown only once."""
        self.add_user(user)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.run(
            lambda c: c.execute(
                "INSERT INTO kenning_tokens (token_hash, user_name, project, label) "
                "VALUES (%s, %s, %s, %s)",
                (hash_token(token), user, project, label),
            )
        )
        return token

    def revoke_token(self, token: str) -> bool:
        cur = self.run(
            lambda c: c.execute(
                "UPDATE kenning_tokens SET revoked_at = now() "
                "WHERE token_hash = %s AND revoked_at IS NULL",
                (hash_token(token),),
            )
        )
        return cur.rowcount > 0

    def authenticate(self, token: str) -> tuple[str, str | None] | None:
        """(user, the project the token is limited to or None) for a live token, else None."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        row = self.run(
            lambda c: c.execute(
                "SELECT user_name, project FROM kenning_tokens "
                "WHERE token_hash = %s AND revoked_at IS NULL",
                (hash_token(token),),
            ).fetchone(),
            transaction=False,
        )
        return (str(row[0]), row[1]) if row else None

    def store(self, principal: Principal) -> PostgresStore:
        """The memories `principal` may see and change."""
        return PostgresStore(self, principal)


def _row_memory(row: tuple[Any, ...]) -> Memory:
    (mid, _space, visibility, project, _owner, author, kind, title, body, created, updated) = row[
        :11
    ]
    status, supersedes, scope, aliases, tags, source, extra = row[11:18]
    meta = dict(extra or {})
    meta.update(author=author, visibility=visibility)
    if project:
        meta["project"] = project
    return Memory(
        id=mid,
        kind=kind,
        title=title,
        body=body,
        created=created,
        updated=updated,
        status=status,
        supersedes=supersedes,
        scope=tuple(scope or ()),
        aliases=tuple(aliases or ()),
        tags=tuple(tags or ()),
        source=source,
        extra=meta,
        personal=visibility == "personal",
    )


_SERVER_KEYS = ("author", "visibility", "project")


def _labels(memory: Memory) -> str:
    """Tags and aliases as one searchable string (tsvector generation must be immutable)."""
    return " ".join((*memory.tags, *memory.aliases))


class PostgresStore:
    """One caller's view of the team store; satisfies `kenning.sync.store.Store`."""

    def __init__(self, db: TeamDatabase, principal: Principal) -> None:
        self.db = db
        self.principal = principal

    def _space(self, personal: bool, team: bool) -> tuple[str, str, str | None]:
        if personal:
            return f"user:{self.principal.user}", "personal", None
        if team:
            return "team", "team", None
        if not self.principal.project:
            raise InvalidMemory(
                "no project: send the project's identity (Kenning-Project header) or store the "
                "memory as personal or team"
            )
        return f"project:{self.principal.project}", "project", self.principal.project

    def add(
        self,
        text: str,
        kind: str,
        *,
        title: str | None = None,
        scope: Sequence[str] = (),
        aliases: Sequence[str] = (),
        tags: Sequence[str] = (),
        supersedes: str | None = None,
        source: str = "mcp",
        personal: bool = False,
        extra: dict[str, Any] | None = None,
        team: bool = False,
    ) -> Memory:
        """Store a new memory in the caller's personal space, the team, or the project.

        Raises:
            InvalidMemory: bad kind, empty text, no project for a project memory, unknown
                `supersedes` id.
        """
        kind = (kind or "").strip().lower()
        if kind not in KINDS:
            raise InvalidMemory(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if not text or not text.strip():
            raise InvalidMemory("nothing to remember: the text is empty")
        head, body = _title_and_body(text, title)
        space, visibility, project = self._space(personal, team)
        now = _now()
        meta = {k: v for k, v in (extra or {}).items() if k not in _SERVER_KEYS}
        memory = Memory(
            id=new_id(kind, head),
            kind=kind,
            title=head,
            body=body,
            created=now,
            updated=now,
            scope=tuple(scope),
            aliases=tuple(aliases),
            tags=tuple(tags),
            supersedes=supersedes,
            source=source,
            extra=meta,
        )
        validate(memory)
        norm = normalized(f"{head} {body}")
        vector = self.db.embed(memory.text)

        def insert(conn: psycopg.Connection[Any]) -> Memory:
            from psycopg.types.json import Jsonb

            if supersedes:
                old = self._fetch(conn, supersedes, lock=True)
                if old is None:
                    raise InvalidMemory(f"supersedes {supersedes!r}: no memory has that id")
                conn.execute(
                    "UPDATE kenning_memories SET status = 'superseded', updated = %s "
                    "WHERE space = %s AND id = %s",
                    (now, self._space_of(old), old.id),
                )
            else:
                dup = conn.execute(
                    f"SELECT {_COLUMNS} FROM kenning_memories WHERE space = %s AND kind = %s "
                    "AND norm = %s AND status = 'active' LIMIT 1",
                    (space, kind, norm),
                ).fetchone()
                if dup is not None:
                    return _row_memory(dup)
            values: tuple[Any, ...] = (
                space, memory.id, visibility, project,
                self.principal.user if personal else None, self.principal.user,
                kind, memory.title, memory.body, now, now, "active", supersedes,
                list(memory.scope), list(memory.aliases), list(memory.tags), source,
                Jsonb(meta), norm, _labels(memory),
            )  # fmt: skip
            columns = (
                "space, id, visibility, project, owner, author, kind, title, body, created, "
                "updated, status, supersedes, scope, aliases, tags, source, extra, norm, labels"
            )
            marks = ", ".join(["%s"] * len(values))
            if vector is not None:
                columns += ", embedding"
                marks += ", %s::vector"
                values = (*values, vector)
            conn.execute(
                f"INSERT INTO kenning_memories ({columns}) VALUES ({marks}) "
                "ON CONFLICT (space, id) DO NOTHING",
                values,
            )
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM kenning_memories WHERE space = %s AND id = %s",
                (space, memory.id),
            ).fetchone()
            assert row is not None
            return _row_memory(row)

        return self.db.run(insert, spaces=self.principal.spaces)

    @staticmethod
    def _space_of(memory: Memory) -> str:
        visibility = memory.extra.get("visibility")
        if visibility == "personal":
            return f"user:{memory.extra['author']}"
        if visibility == "project":
            return f"project:{memory.extra['project']}"
        return "team"

    def _fetch(
        self, conn: psycopg.Connection[Any], memory_id: str, lock: bool = False
    ) -> Memory | None:
        # Personal first, then project, then team: an id is found in the caller's spaces only.
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM kenning_memories WHERE id = %s AND space = ANY(%s) "
            "ORDER BY (visibility = 'personal') DESC, (visibility = 'project') DESC LIMIT 1"
            + (" FOR UPDATE" if lock else ""),
            (memory_id.strip(), self.principal.spaces),
        ).fetchone()
        return _row_memory(row) if row else None

    def get(self, memory_id: str) -> Memory:
        """The memory with this id among the caller's spaces.

        Raises:
            MemoryNotFound: no such id the caller may see (another user's personal memory is
                reported exactly like a missing one).
        """
        found = self.db.run(lambda c: self._fetch(c, memory_id), spaces=self.principal.spaces)
        if found is None:
            raise MemoryNotFound(memory_id)
        return found

    def all(self, kind: str | None = None, include_inactive: bool = True) -> list[Memory]:
        sql = f"SELECT {_COLUMNS} FROM kenning_memories WHERE space = ANY(%s)"
        args: list[Any] = [self.principal.spaces]
        if kind:
            sql += " AND kind = %s"
            args.append(kind)
        if not include_inactive:
            sql += " AND status = 'active'"
        sql += " ORDER BY updated DESC, id"
        rows = self.db.run(lambda c: c.execute(sql, args).fetchall(), spaces=self.principal.spaces)
        return [_row_memory(r) for r in rows]

    def update(self, memory_id: str, **changes: Any) -> Memory:
        """Change fields of a memory the caller may see; returns the new version.

        Raises:
            MemoryNotFound: no such id among the caller's spaces.
            InvalidMemory: the change breaks validation.
        """
        allowed = set(_FIELD_ORDER) - {"id", "created"} | {"body", "extra"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidMemory(f"cannot change {', '.join(sorted(unknown))}")
        for name in ("scope", "aliases", "tags"):
            if name in changes:
                changes[name] = tuple(changes[name])

        def apply(conn: psycopg.Connection[Any]) -> Memory:
            from psycopg.types.json import Jsonb

            current = self._fetch(conn, memory_id, lock=True)
            if current is None:
                raise MemoryNotFound(memory_id)
            fresh = replace(current, updated=_now(), **changes)
            validate(fresh)
            meta = {k: v for k, v in fresh.extra.items() if k not in _SERVER_KEYS}
            meta["updated_by"] = self.principal.user
            sets = (
                "kind = %s, title = %s, body = %s, updated = %s, status = %s, supersedes = %s, "
                "scope = %s, aliases = %s, tags = %s, source = %s, extra = %s, norm = %s, "
                "labels = %s"
            )
            values: list[Any] = [
                fresh.kind, fresh.title, fresh.body, fresh.updated, fresh.status,
                fresh.supersedes, list(fresh.scope), list(fresh.aliases), list(fresh.tags),
                fresh.source, Jsonb(meta), normalized(f"{fresh.title} {fresh.body}"),
                _labels(fresh),
            ]  # fmt: skip
            if (fresh.title, fresh.body) != (current.title, current.body):
                vector = self.db.embed(fresh.text)
                if vector is not None:
                    sets += ", embedding = %s::vector"
                    values.append(vector)
            row = conn.execute(
                f"UPDATE kenning_memories SET {sets} WHERE space = %s AND id = %s "
                f"RETURNING {_COLUMNS}",
                (*values, self._space_of(current), current.id),
            ).fetchone()
            assert row is not None
            return _row_memory(row)

        return self.db.run(apply, spaces=self.principal.spaces)

    def retire(self, memory_id: str) -> Memory:
        """Mark a memory retired; the row stays."""
        return self.update(memory_id, status="retired")

    def search(
        self,
        query: str,
        k: int = 10,
        kinds: Sequence[str] = (),
        include_inactive: bool = False,
        min_similarity: float = 0.3,
    ) -> list[SearchHit]:
        """Active memories best matching `query`: FTS and vectors fused by reciprocal rank.

        A vector neighbour counts only at cosine similarity `min_similarity` or more: nearest
        neighbours always exist, relevant ones not.
        """
        k = max(1, min(int(k), 100))
        pool = max(k * 4, 20)
        filters = "space = ANY(%s)" + ("" if include_inactive else " AND status = 'active'")
        args: list[Any] = [self.principal.spaces]
        if kinds:
            filters += " AND kind = ANY(%s)"
            args.append(list(kinds))
        vector = self.db.embed(query)

        def find(conn: psycopg.Connection[Any]) -> tuple[list[Any], list[Any]]:
            lexical = conn.execute(
                f"SELECT {_COLUMNS}, ts_rank_cd(tsv, q) AS rank FROM kenning_memories, "
                "websearch_to_tsquery('english', %s) AS q "
                f"WHERE {filters} AND tsv @@ q ORDER BY rank DESC, updated DESC LIMIT %s",
                (query, *args, pool),
            ).fetchall()
            dense: list[Any] = []
            if vector is not None:
                dense = conn.execute(
                    f"SELECT {_COLUMNS}, 1 - (embedding <=> %s::vector) AS sim "
                    f"FROM kenning_memories WHERE {filters} AND embedding IS NOT NULL "
                    "ORDER BY embedding <=> %s::vector LIMIT %s",
                    (vector, *args, vector, pool),
                ).fetchall()
                dense = [row for row in dense if float(row[-1]) >= min_similarity]
            return lexical, dense

        lexical, dense = self.db.run(find, spaces=self.principal.spaces)
        scores: dict[tuple[str, str], float] = {}
        rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        why: dict[tuple[str, str], list[str]] = {}
        for label, ranked in (("words", lexical), ("meaning", dense)):
            for rank, row in enumerate(ranked):
                key = (row[1], row[0])
                scores[key] = scores.get(key, 0.0) + 1.0 / (60 + rank + 1)
                rows[key] = row
                why.setdefault(key, []).append(label)
        best = sorted(scores, key=lambda key: scores[key], reverse=True)[:k]
        return [
            SearchHit(_row_memory(rows[key]), round(scores[key], 6), " + ".join(why[key]))
            for key in best
        ]
