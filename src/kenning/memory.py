"""The memory store: one Markdown file with YAML front-matter per memory, the source of truth.

Project memories live in `.kenning/memories/<kind>/<id>.md`, personal ones (which follow the user
across projects) in `$KENNING_HOME/memories/<kind>/<id>.md`. Invariants:

- a write is atomic (temp file + rename) and a new memory never overwrites another (hard-link
  create fails when the name is taken, and a fresh id is drawn);
- read-modify-write changes (supersede, retire, edit) hold the store lock;
- a hand-edited file is read as it is: missing `id`, dates or status are filled in from the file
  name and mtime; a file that cannot be parsed is reported, never rewritten or deleted.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from kenning._fs import atomic_create, atomic_replace, file_lock
from kenning.errors import InvalidMemory, MemoryFormatError, MemoryNotFound
from kenning.tokens import valid_unicode

KINDS: tuple[str, ...] = ("decision", "rule", "preference", "person", "term", "fact", "note")
STATUSES: tuple[str, ...] = ("active", "superseded", "retired")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,95}$")
MAX_BODY_CHARS = 64_000
MAX_LABEL_CHARS = 300  # one scope glob, alias or tag
MAX_FILE_BYTES = 1_000_000
_FIELD_ORDER = (
    "id",
    "kind",
    "title",
    "created",
    "updated",
    "status",
    "supersedes",
    "scope",
    "aliases",
    "tags",
    "source",
)

try:  # the C loader is several times faster on thousands of files
    _Loader: Any = yaml.CSafeLoader
    _Dumper: Any = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper


@dataclass(frozen=True)
class Memory:
    """One thing the user established: a decision, rule, preference, person, term, fact or note."""

    id: str
    kind: str
    title: str
    body: str = ""
    created: datetime = field(default_factory=lambda: _now())
    updated: datetime = field(default_factory=lambda: _now())
    status: str = "active"
    supersedes: str | None = None
    scope: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = "human"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    path: Path | None = field(default=None, compare=False)
    personal: bool = False

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def text(self) -> str:
        """Title and body together, as indexed and shown."""
        return f"{self.title}\n\n{self.body}".strip() if self.body else self.title

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (dates as ISO strings)."""
        data = {k: getattr(self, k) for k in _FIELD_ORDER}
        data["created"] = _iso(self.created)
        data["updated"] = _iso(self.updated)
        data["scope"], data["aliases"], data["tags"] = (
            list(self.scope),
            list(self.aliases),
            list(self.tags),
        )
        data.update({k: _jsonable(v) for k, v in self.extra.items()})
        data["body"] = self.body
        data["personal"] = self.personal
        data["path"] = str(self.path) if self.path else None
        return data


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _as_datetime(value: Any, fallback: datetime, path: Path, name: str) -> datetime:
    if value is None or value == "":
        return fallback
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise MemoryFormatError(
                path, f"{name}: {value!r} is not a date (use 2026-03-14)"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise MemoryFormatError(path, f"{name}: {value!r} is not a date (use 2026-03-14)")


def _as_strings(value: Any, path: Path, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value if str(v).strip())
    raise MemoryFormatError(path, f"{name}: expected a list of strings, got {value!r}")


def slugify(text: str, max_words: int = 6, max_len: int = 48) -> str:
    """A lowercase, dash-separated slug of the first few words of `text`."""
    words = re.findall(r"[a-z0-9]+", text.lower())[:max_words]
    slug = "-".join(words)[:max_len].strip("-")
    return slug or "memory"


def new_id(kind: str, title: str) -> str:
    """A readable id: the title's slug plus four random hex digits (safe across machines)."""
    return f"{slugify(title)}-{secrets.token_hex(2)}"


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(front-matter YAML or None, body) of a Markdown file."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith("---"):
        return None, text
    first_break = text.find("\n")
    if first_break < 0 or text[:first_break].strip() != "---":
        return None, text
    match = re.search(r"^(---|\.\.\.)[ \t]*$", text[first_break + 1 :], re.MULTILINE)
    if match is None:
        return "", ""  # opened but never closed: reported by the parser
    start = first_break + 1
    yaml_text = text[start : start + match.start()]
    body = text[start + match.end() :].lstrip("\n")
    return yaml_text, body


def parse_memory(
    text: str,
    path: Path,
    *,
    personal: bool = False,
    mtime: float | None = None,
) -> Memory:
    """Read one memory file's text. Missing fields are filled from the path and mtime.

    Raises:
        MemoryFormatError: the front-matter is not valid YAML, not a mapping, or has bad fields.
    """
    front, body = split_front_matter(text)
    if front == "" and body == "":
        raise MemoryFormatError(path, "front-matter opened with --- but never closed")
    meta: dict[str, Any] = {}
    if front is not None:
        try:
            loaded = yaml.load(front, Loader=_Loader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise MemoryFormatError(path, f"front-matter{where}: {problem}") from None
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            # YAML that tokenises but cannot be built: a date like 0000-00-00, absurd nesting.
            raise MemoryFormatError(path, f"front-matter: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise MemoryFormatError(path, "front-matter must be a mapping of key: value lines")
        meta = {str(k): v for k, v in loaded.items()}
    fallback = (
        datetime.fromtimestamp(mtime, UTC).replace(microsecond=0) if mtime is not None else _now()
    )
    kind = str(meta.pop("kind", "") or path.parent.name).strip().lower()
    if kind not in KINDS:
        raise MemoryFormatError(path, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    memory_id = str(meta.pop("id", "") or path.stem).strip()
    if not ID_PATTERN.match(memory_id):
        raise MemoryFormatError(path, f"id {memory_id!r} may hold only a-z, 0-9, '.', '_', '-'")
    body = body.strip()
    title = meta.pop("title", None)
    if title is None or str(title).strip() == "":
        heading = re.match(r"#+\s+(.+)", body)
        if heading:
            title = heading.group(1).strip()
            body = body[heading.end() :].strip()
        else:
            first = body.splitlines()[0] if body else ""
            title = first[:120] or memory_id
    status = str(meta.pop("status", "active") or "active").strip().lower()
    if status not in STATUSES:
        raise MemoryFormatError(path, f"status {status!r} is not one of {', '.join(STATUSES)}")
    supersedes = meta.pop("supersedes", None)
    created = _as_datetime(meta.pop("created", None), fallback, path, "created")
    return Memory(
        id=memory_id,
        kind=kind,
        title=" ".join(str(title).split()),
        body=body,
        created=created,
        updated=_as_datetime(meta.pop("updated", None), created, path, "updated"),
        status=status,
        supersedes=str(supersedes).strip() if supersedes else None,
        scope=_as_strings(meta.pop("scope", None), path, "scope"),
        aliases=_as_strings(meta.pop("aliases", None), path, "aliases"),
        tags=_as_strings(meta.pop("tags", None), path, "tags"),
        source=str(meta.pop("source", "human") or "human"),
        extra=meta,
        path=path,
        personal=personal,
    )


def render_memory(memory: Memory) -> str:
    """The file text for `memory`: front-matter in a stable key order, then the body."""
    meta: dict[str, Any] = {
        "id": memory.id,
        "kind": memory.kind,
        "title": memory.title,
        "created": _iso(memory.created),
        "updated": _iso(memory.updated),
        "status": memory.status,
        "supersedes": memory.supersedes,
        "scope": list(memory.scope),
        "aliases": list(memory.aliases),
        "tags": list(memory.tags),
        "source": memory.source,
    }
    meta.update({k: _jsonable(v) for k, v in memory.extra.items()})
    front = yaml.dump(
        meta,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )
    body = memory.body.strip()
    return f"---\n{front}---\n{body}\n" if body else f"---\n{front}---\n"


def validate(memory: Memory) -> None:
    """Reject a memory before it is written.

    Raises:
        InvalidMemory: with a message naming the bad field.
    """
    if memory.kind not in KINDS:
        raise InvalidMemory(f"kind {memory.kind[:40]!r} is not one of {', '.join(KINDS)}")
    if memory.status not in STATUSES:
        raise InvalidMemory(f"status {memory.status!r} is not one of {', '.join(STATUSES)}")
    if not ID_PATTERN.match(memory.id):
        raise InvalidMemory(f"id {memory.id!r} may hold only a-z, 0-9, '.', '_', '-'")
    if not memory.title.strip():
        raise InvalidMemory("a memory needs a title or some text")
    if len(memory.title) > 300:
        raise InvalidMemory("the title is longer than 300 characters; put the detail in the text")
    if len(memory.body) > MAX_BODY_CHARS:
        raise InvalidMemory(
            f"the text is {len(memory.body):,} characters; a memory holds at most "
            f"{MAX_BODY_CHARS:,} (store a summary and point at the file)"
        )
    if "\x00" in memory.body or "\x00" in memory.title:
        raise InvalidMemory("the text holds NUL bytes; memories are plain text")
    texts = (memory.title, memory.body, memory.source, *memory.scope, *memory.aliases, *memory.tags)
    if any(valid_unicode(value) is not value for value in texts):
        raise InvalidMemory(
            "the text holds bytes that are not UTF-8 (a mis-encoded argument?); "
            "pass plain Unicode text"
        )
    for name, values in (("scope", memory.scope), ("alias", memory.aliases), ("tag", memory.tags)):
        long = next((v for v in values if len(v) > MAX_LABEL_CHARS), None)
        if long is not None:
            raise InvalidMemory(
                f"{name} {long[:40]!r}… is {len(long):,} characters; the limit is {MAX_LABEL_CHARS}"
            )
    for glob in memory.scope:
        if glob.startswith("/") or ".." in Path(glob).parts:
            raise InvalidMemory(f"scope {glob!r} must be a path glob relative to the project root")


def _title_and_body(text: str, title: str | None) -> tuple[str, str]:
    text = text.strip()
    if title and title.strip():
        return " ".join(title.split()), text
    first, _, rest = text.partition("\n")
    first = first.strip().lstrip("#").strip()
    if len(first) <= 120 and rest.strip():
        return first, rest.strip()
    if len(text) <= 120:
        return " ".join(text.split()), ""
    cut = text[:120].rsplit(" ", 1)[0]
    return cut + "…", text


def normalized(text: str) -> str:
    """Lowercased words only: the key for spotting an exact re-statement."""
    return " ".join(re.findall(r"\w+", text.lower()))


class WriteHooks(Protocol):
    """What a workspace adds to a write: provenance and anchors, near-duplicate checks."""

    def prepare(self, memory: Memory, files: Sequence[str]) -> Memory:
        """The memory to write, with provenance and anchors filled in."""
        ...

    def find_duplicate(self, store: MemoryStore, memory: Memory) -> tuple[Memory, float] | None:
        """An active memory that says what `memory` says, with the similarity."""
        ...

    def merge(self, existing: Memory, new: Memory) -> Memory:
        """`existing` with what `new` adds."""
        ...


DUPLICATE_POLICIES = ("refuse", "merge", "keep")


def read_memory_file(path: Path, personal: bool = False) -> Memory:
    """Parse one memory file, with no cache (an index run's worker processes read each once).

    Raises:
        MemoryFormatError: unreadable, too large, not UTF-8 (text or name), or bad
            front-matter.
    """
    return _parse_file(path, personal, _checked_stat(path))


def _checked_stat(path: Path) -> os.stat_result:
    shown = valid_unicode(str(path))
    if shown != str(path):  # the index and every reply hold paths as UTF-8 text
        raise MemoryFormatError(shown, "the file name is not UTF-8; rename the file")
    try:
        stat = path.stat()
    except OSError as exc:
        raise MemoryFormatError(path, f"cannot read ({exc.strerror})") from None
    if stat.st_size > MAX_FILE_BYTES:
        raise MemoryFormatError(path, f"{stat.st_size:,} bytes is too large for a memory")
    return stat


def _parse_file(path: Path, personal: bool, stat: os.stat_result) -> Memory:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MemoryFormatError(path, f"cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MemoryFormatError(path, "not UTF-8 text") from None
    return parse_memory(text, path, personal=personal, mtime=stat.st_mtime)


class MemoryStore:
    """Reads and writes the project's and the user's memory files.

    With `hooks` set (a workspace sets them), every write is logged to the store's append-only
    audit log (`kenning.hygiene.audit`), new memories get provenance and anchors, and a
    near-duplicate of an active memory is refused or merged.
    """

    def __init__(
        self,
        project_dir: Path | None,
        personal_dir: Path | None,
        hooks: WriteHooks | None = None,
    ) -> None:
        self.project_dir = project_dir
        self.personal_dir = personal_dir
        self.hooks = hooks
        self._parsed: dict[Path, tuple[tuple[int, int, int, bool], Memory]] = {}
        self.problems: list[MemoryFormatError] = []

    def _dir(self, personal: bool) -> Path:
        folder = self.personal_dir if personal else self.project_dir
        if folder is None:
            raise InvalidMemory(
                "this store has no " + ("personal" if personal else "project") + " folder"
            )
        return folder

    def _lock_path(self, personal: bool) -> Path:
        return self._dir(personal) / ".lock"

    def files(self) -> Iterator[tuple[Path, bool]]:
        """Every memory file, with whether it is personal."""
        for folder, names, personal in self.listing():
            base = Path(folder)
            for name in names:
                yield base / name, personal

    def listing(self) -> Iterator[tuple[str, list[str], bool]]:
        """(kind folder, its memory file names, personal), sorted: `files` as plain strings,
        for the indexer, which lists every memory in every run (5k Path objects cost ~100 ms)."""
        for folder, personal in ((self.project_dir, False), (self.personal_dir, True)):
            if folder is None or not folder.is_dir():
                continue
            with os.scandir(folder) as entries:
                kinds = sorted(e.path for e in entries if not e.name.startswith(".") and e.is_dir())
            for kind_dir in kinds:
                try:
                    with os.scandir(kind_dir) as entries:
                        names = sorted(
                            e.name
                            for e in entries
                            if e.name.endswith(".md") and not e.name.startswith(".")
                        )
                except OSError:
                    continue
                yield kind_dir, names, personal

    def read(self, path: Path, personal: bool = False) -> Memory:
        """Parse one file (see `read_memory_file`).

        Raises:
            MemoryFormatError: unreadable, too large, not UTF-8 (text or name), or bad
                front-matter.
        """
        stat = _checked_stat(path)
        # A long-lived store (the MCP server) re-reads thousands of unchanged files on every
        # duplicate check; an unchanged (mtime_ns, size, inode) needs no second parse.
        key = (stat.st_mtime_ns, stat.st_size, stat.st_ino, personal)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        memory = _parse_file(path, personal, stat)
        if len(self._parsed) > 50_000:
            self._parsed.clear()
        self._parsed[path] = (key, memory)
        return memory

    def all(self, kind: str | None = None, include_inactive: bool = True) -> list[Memory]:
        """Every readable memory; unreadable files are collected in `self.problems`."""
        self.problems = []
        memories: list[Memory] = []
        seen: set[str] = set()
        for path, personal in self.files():
            try:
                memory = self.read(path, personal)
            except MemoryFormatError as exc:
                self.problems.append(exc)
                continue
            if memory.id in seen:
                self.problems.append(
                    MemoryFormatError(path, f"duplicate id {memory.id!r}; the first file wins")
                )
                continue
            seen.add(memory.id)
            if kind and memory.kind != kind:
                continue
            if not include_inactive and not memory.active:
                continue
            memories.append(memory)
        return memories

    def get(self, memory_id: str) -> Memory:
        """The memory with this id (a prefix is accepted when it is unique).

        Raises:
            MemoryNotFound: no such id.
        """
        memory_id = memory_id.strip()
        if ID_PATTERN.match(memory_id):
            for folder, personal in ((self.project_dir, False), (self.personal_dir, True)):
                if folder is None:
                    continue
                for path in folder.glob(f"*/{memory_id}.md"):
                    return self.read(path, personal)
        matches = [m for m in self.all() if m.id == memory_id or m.id.startswith(memory_id)]
        exact = [m for m in matches if m.id == memory_id]
        if exact:
            return exact[0]
        if len(matches) == 1 and memory_id:
            return matches[0]
        raise MemoryNotFound(memory_id)

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
        source: str = "cli",
        personal: bool = False,
        extra: dict[str, Any] | None = None,
        files: Sequence[str] = (),
        on_duplicate: str = "refuse",
    ) -> Memory:
        """Write a new memory and return it. When it supersedes another, that one is marked.

        An active memory of the same kind with the same words is returned instead of a copy.
        With hooks, `files` are extra anchors, and a near-duplicate is refused (`on_duplicate`
        "refuse"), folded into the existing memory ("merge", which is returned) or kept ("keep").

        Raises:
            InvalidMemory: bad kind, empty text, bad scope, unknown `supersedes` id.
            NearDuplicate: (an InvalidMemory) a near-duplicate, with `on_duplicate="refuse"`.
        """
        kind = (kind or "").strip().lower()
        if kind not in KINDS:
            raise InvalidMemory(f"kind {kind[:40]!r} is not one of {', '.join(KINDS)}")
        if on_duplicate not in DUPLICATE_POLICIES:
            raise InvalidMemory(f"on_duplicate must be one of {', '.join(DUPLICATE_POLICIES)}")
        if not text or not text.strip():
            raise InvalidMemory("nothing to remember: the text is empty")
        head, body = _title_and_body(text, title)
        folder = self._dir(personal) / kind
        now = _now()
        with file_lock(self._lock_path(personal)):
            old: Memory | None = None
            if supersedes:
                try:
                    old = self.get(supersedes)
                except MemoryNotFound:
                    raise InvalidMemory(
                        f"--supersedes {supersedes!r}: no memory has that id"
                    ) from None
            else:
                duplicate = self._find_duplicate(kind, head, body)
                if duplicate is not None:
                    return duplicate
            memory = Memory(
                id=new_id(kind, head),
                kind=kind,
                title=head,
                body=body,
                created=now,
                updated=now,
                supersedes=old.id if old else None,
                scope=tuple(scope),
                aliases=tuple(aliases),
                tags=tuple(tags),
                source=source,
                extra=dict(extra or {}),
                personal=personal,
            )
            validate(memory)
            if self.hooks is not None:
                memory = self.hooks.prepare(memory, files)
                near = (
                    None
                    if old or on_duplicate == "keep"
                    else self.hooks.find_duplicate(self, memory)
                )
                if near is not None:
                    return self._settle_duplicate(near, memory, on_duplicate)
            while True:
                path = folder / f"{memory.id}.md"
                if atomic_create(path, render_memory(memory)):
                    break
                memory = replace(memory, id=new_id(kind, head))
            memory = replace(memory, path=path)
            self._audit("add", memory)
            if old is not None and old.path is not None:
                marked = replace(old, status="superseded", updated=now)
                atomic_replace(old.path, render_memory(marked))
                self._audit("supersede", marked, old, by=memory.id)
        return memory

    def _settle_duplicate(
        self, near: tuple[Memory, float], memory: Memory, on_duplicate: str
    ) -> Memory:
        existing, score = near
        if on_duplicate == "merge" and self.hooks is not None and existing.path is not None:
            merged = self.hooks.merge(existing, memory)
            if merged != existing:
                validate(merged)
                atomic_replace(existing.path, render_memory(merged))
                self._audit("merge", merged, existing, similarity=round(score, 3))
            return merged
        from kenning.hygiene.dedupe import NearDuplicate

        raise NearDuplicate(existing, score)

    def _audit(
        self, action: str, memory: Memory, before: Memory | None = None, **detail: Any
    ) -> None:
        if self.hooks is None:
            return  # a bare store (imports, sync, tests) writes its memory files and nothing else
        from kenning.hygiene.audit import record

        record(self._dir(memory.personal), action, memory, before, **detail)

    def _find_duplicate(self, kind: str, title: str, body: str) -> Memory | None:
        key = normalized(f"{title} {body}")
        for path, personal in self.files():
            if path.parent.name != kind:
                continue
            try:
                memory = self.read(path, personal)
            except MemoryFormatError:
                continue
            if memory.active and normalized(f"{memory.title} {memory.body}") == key:
                return memory
        return None

    def update(self, memory_id: str, **changes: Any) -> Memory:
        """Change fields of a memory in place (under the lock) and return the new version.

        Raises:
            MemoryNotFound: no such id.
            InvalidMemory: the change breaks validation.
        """
        current = self.get(memory_id)
        allowed = set(_FIELD_ORDER) - {"id", "created"} | {"body", "extra"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidMemory(f"cannot change {', '.join(sorted(unknown))}")
        with file_lock(self._lock_path(current.personal)):
            path = current.path
            if path is None:  # pragma: no cover - memories read from disk always have a path
                raise InvalidMemory(f"{memory_id} has no file to update")
            current = self.read(path, current.personal)
            for name in ("scope", "aliases", "tags"):
                if name in changes:
                    changes[name] = tuple(changes[name])
            fresh = replace(current, updated=_now(), **changes)
            validate(fresh)
            atomic_replace(path, render_memory(fresh))
            action = "retire" if fresh.status == "retired" != current.status else "update"
            self._audit(action, fresh, current)
        return fresh

    def retire(self, memory_id: str) -> Memory:
        """Mark a memory retired; its file stays, so `git log` and `show` still have it."""
        return self.update(memory_id, status="retired")


def content_hash(data: bytes | str) -> str:
    """A short, stable content hash used to detect changed files."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def iter_kinds(values: Iterable[str]) -> list[str]:
    """Validate a list of kind names (CLI and MCP filters)."""
    kinds = [v.strip().lower() for v in values if v.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InvalidMemory(f"unknown kind {bad[0][:40]!r}; choose from {', '.join(KINDS)}")
    return kinds


def environ_source(default: str = "cli") -> str:
    """The recording tool's name, from `KENNING_SOURCE` when a wrapper sets it."""
    return os.environ.get("KENNING_SOURCE", default)
