"""Three-way merge of memory stores, keyed by memory id: pure functions, no git, no disk.

Git merges lines; memories need merging by meaning. Two machines that each edited a different
field of one memory (one retagged it, the other fixed a typo) merge cleanly, field by field. When
both changed the same field (two different bodies), neither edit may be lost, so the merge keeps
both, in one of two shapes:

- **a superseding pair** (when the edits have an order, by their `updated` time): the later edit
  keeps the id and stays active; the earlier one is written beside it as a revision
  (`<id>.r-<hash>`, status `superseded`), and the later one's `supersedes` points at it;
- **a marked conflict** (when the two edits carry the same `updated` time, or the user asked
  for it): both stay active; the file at the id gets `conflict: [<other id>]`, the other one
  (`<id>.c-<hash>`) gets `conflict_of: <id>`, and `kenning resolve` settles it.

Everything here is deterministic: both machines that merge the same pair of edits produce the
same files, so repeated syncs converge. A memory is keyed by the stem of its `<kind>/<id>.md`
path, so a memory whose kind changed on one side is still one memory. Any other file (a README in
the store) merges as a whole: a both-sides edit keeps ours and writes theirs beside it.

Deletions: one side deleting a memory the other side left alone deletes it; one side deleting a
memory the other side *edited* keeps the edit (a memory is never lost to a deletion that raced
an edit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from kenning.errors import MemoryFormatError
from kenning.memory import ID_PATTERN, KINDS, Memory, parse_memory, render_memory

__all__ = [
    "ConflictPolicy",
    "FileMerge",
    "MergeResult",
    "memory_key",
    "merge_memory_texts",
    "merge_trees",
    "revision_id",
]

ConflictPolicy = Literal["auto", "supersede", "mark"]
"""auto: a superseding pair when the two edits have an order, else a marked conflict."""

_STATUS_RANK = {"active": 0, "superseded": 1, "retired": 2}
_LIST_FIELDS = ("scope", "aliases", "tags")
_CONTENT_FIELDS = ("kind", "title", "body", "supersedes")
_MARKER_KEYS = ("conflict", "conflict_of", "revision_of", "revision_sha")
_MAX_ID = 96


def text_sha(text: str) -> str:
    """The short content hash that names a revision (stable across machines)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def revision_id(memory_id: str, text: str, marker: str = "r") -> str:
    """The id of a preserved version of `memory_id` whose file text is `text`."""
    suffix = f".{marker}-{text_sha(text)[:8]}"
    return memory_id[: _MAX_ID - len(suffix)] + suffix


def memory_key(path: str) -> str:
    """`m:<id>` for a memory file (`<kind>/<id>.md`), `p:<path>` for anything else."""
    parts = PurePosixPath(path).parts
    if len(parts) == 2 and parts[0] in KINDS and parts[1].endswith(".md"):
        stem = parts[1][: -len(".md")]
        if ID_PATTERN.match(stem) and not stem.startswith("."):
            return f"m:{stem}"
    return f"p:{path}"


@dataclass(frozen=True)
class FileMerge:
    """What the merge decided for one key: the files to write (path → text) and to remove."""

    key: str
    write: Mapping[str, str] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    outcome: Literal["theirs", "merged", "pair", "conflict", "kept"] = "merged"
    other_id: str | None = None


@dataclass
class MergeResult:
    """The whole merge: per-key decisions plus counts for the report."""

    changes: list[FileMerge] = field(default_factory=list)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(c.key[2:], c.other_id or "") for c in self.changes if c.outcome == "pair"]

    @property
    def conflicts(self) -> list[tuple[str, str]]:
        return [(c.key[2:], c.other_id or "") for c in self.changes if c.outcome == "conflict"]


Side = tuple[str, str] | None
"""(path, text) of one key on one side, or None when that side has no such file."""


def merge_trees(
    base: Mapping[str, str],
    ours: Mapping[str, str],
    theirs: Mapping[str, str],
    *,
    policy: ConflictPolicy = "auto",
) -> MergeResult:
    """Merge three snapshots (path → text); returns only what differs from `ours`.

    `base` is the common ancestor (empty for unrelated histories). Texts are passed in already
    read; the caller reads only the paths whose content differs between the sides.
    """
    sides = [_by_key(base), _by_key(ours), _by_key(theirs)]
    result = MergeResult()
    for key in sorted(set(sides[0]) | set(sides[1]) | set(sides[2])):
        b, o, t = (s.get(key) for s in sides)
        change = _merge_key(key, b, o, t, policy)
        if change is not None:
            result.changes.append(change)
    return result


def _by_key(tree: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for path in sorted(tree):
        key = memory_key(path)
        if key in out:  # the same id under two kinds: keep the first, merge the other as a file
            key = f"p:{path}"
        out[key] = (path, tree[path])
    return out


def _merge_key(key: str, b: Side, o: Side, t: Side, policy: ConflictPolicy) -> FileMerge | None:
    if o == t or t == b:
        return None  # nothing new from theirs
    if o == b:
        return _take(key, o, t, "theirs")
    # Both sides changed this key, differently.
    if t is None:
        return None  # they deleted what we edited: keep our edit
    if o is None:
        return _take(key, o, t, "kept")  # we deleted what they edited: keep their edit
    if key.startswith("p:"):
        side_path = f"{o[0]}.conflict-{text_sha(t[1])[:8]}"
        return FileMerge(key, {side_path: t[1]}, outcome="conflict", other_id=side_path)
    return merge_memory_texts(key[2:], b, o, t, policy)


def _take(key: str, o: Side, t: Side, outcome: Literal["theirs", "kept"]) -> FileMerge:
    write = {t[0]: t[1]} if t is not None else {}
    remove = (o[0],) if o is not None and (t is None or t[0] != o[0]) else ()
    return FileMerge(key, write, remove, outcome)


def _parse(side: tuple[str, str]) -> Memory | None:
    path, text = side
    try:
        return parse_memory(text, Path(path))
    except MemoryFormatError:
        return None


def merge_memory_texts(
    memory_id: str,
    base: Side,
    ours: tuple[str, str],
    theirs: tuple[str, str],
    policy: ConflictPolicy = "auto",
) -> FileMerge:
    """Merge two edits of one memory (see the module docstring for the shapes)."""
    key = f"m:{memory_id}"
    mb = _parse(base) if base is not None else None
    mo, mt = _parse(ours), _parse(theirs)
    if mo is None or mt is None:
        # A hand-edited file that no longer parses: keep ours, keep theirs beside it, verbatim.
        other = revision_id(memory_id, theirs[1], "c")
        kind = PurePosixPath(ours[0]).parts[0]
        return FileMerge(key, {f"{kind}/{other}.md": theirs[1]}, outcome="conflict", other_id=other)
    merged, clashes = _merge_fields(mb, mo, mt)
    if not clashes:
        text = render_memory(merged)
        path = f"{merged.kind}/{memory_id}.md"
        if path == ours[0] and text == ours[1]:
            return FileMerge(key, {}, outcome="merged")
        remove = (ours[0],) if ours[0] != path else ()
        return FileMerge(key, {path: text}, remove, "merged")
    # Order the two edits: later `updated` first; a tie is broken by content so every machine
    # agrees, but a tie has no real order, so `auto` marks it as a conflict instead.
    (win, win_side), (lose, lose_side) = sorted(
        ((mo, ours), (mt, theirs)), key=lambda m: (m[0].updated, text_sha(m[1][1])), reverse=True
    )
    ordered = win.updated != lose.updated
    if policy == "supersede" or (policy == "auto" and ordered):
        return _pair(memory_id, merged, clashes, win, lose, lose_side, ours)
    return _mark(memory_id, merged, clashes, win, lose, lose_side, ours)


def _merge_fields(
    base: Memory | None, ours: Memory, theirs: Memory
) -> tuple[Memory, dict[str, tuple[Any, Any]]]:
    """Field-wise three-way merge; returns the merge (ours where fields clash) and the clashes."""
    clashes: dict[str, tuple[Any, Any]] = {}
    values: dict[str, Any] = {}
    for name in _CONTENT_FIELDS + ("source",):
        b = getattr(base, name) if base is not None else None
        o, t = getattr(ours, name), getattr(theirs, name)
        if o == t or t == b or (name == "supersedes" and _is_revision_of(o, ours.id)):
            values[name] = o
        elif o == b:
            values[name] = t
        elif name == "source":
            values[name] = o if ours.updated >= theirs.updated else t
        else:
            values[name] = o
            clashes[name] = (o, t)
    b_status = base.status if base is not None else None
    if ours.status == theirs.status or theirs.status == b_status:
        values["status"] = ours.status
    elif ours.status == b_status:
        values["status"] = theirs.status
    else:  # both changed it: the more final state wins (retired over superseded over active)
        values["status"] = max(ours.status, theirs.status, key=lambda s: _STATUS_RANK.get(s, 0))
    for name in _LIST_FIELDS:
        b_items = set(getattr(base, name)) if base is not None else set()
        o_items, t_items = getattr(ours, name), getattr(theirs, name)
        kept = [x for x in o_items if x in t_items or x not in b_items]
        kept += [x for x in t_items if x not in o_items and x not in b_items]
        values[name] = tuple(dict.fromkeys(kept))
    extra = dict(base.extra) if base is not None else {}
    for k in set(ours.extra) | set(theirs.extra) | set(extra):
        b, o, t = extra.get(k), ours.extra.get(k), theirs.extra.get(k)
        value = (
            o
            if (o == t or t == b)
            else t
            if o == b
            else (o if ours.updated >= theirs.updated else t)
        )
        if value is None:
            extra.pop(k, None)
        else:
            extra[k] = value
    merged = replace(
        ours,
        created=min(ours.created, theirs.created),
        updated=max(ours.updated, theirs.updated),
        extra=extra,
        **values,
    )
    return merged, clashes


def _pair(
    memory_id: str,
    merged: Memory,
    clashes: dict[str, tuple[Any, Any]],
    win: Memory,
    lose: Memory,
    lose_side: tuple[str, str],
    ours: tuple[str, str],
) -> FileMerge:
    rev = revision_id(memory_id, lose_side[1])
    lose_extra = {k: v for k, v in lose.extra.items() if k not in _MARKER_KEYS}
    lose_extra.update(revision_of=memory_id, revision_sha=text_sha(lose_side[1]))
    revision = replace(lose, id=rev, status="superseded", extra=lose_extra)
    winner = replace(merged, **{name: getattr(win, name) for name in clashes})
    winner = replace(winner, supersedes=rev, status=merged.status)
    return _files(memory_id, winner, revision, ours, "pair", rev)


def _mark(
    memory_id: str,
    merged: Memory,
    clashes: dict[str, tuple[Any, Any]],
    win: Memory,
    lose: Memory,
    lose_side: tuple[str, str],
    ours: tuple[str, str],
) -> FileMerge:
    other = revision_id(memory_id, lose_side[1], "c")
    lose_extra = {k: v for k, v in lose.extra.items() if k not in _MARKER_KEYS}
    lose_extra.update(conflict_of=memory_id, revision_sha=text_sha(lose_side[1]))
    sibling = replace(lose, id=other, extra=lose_extra)
    primary = replace(merged, **{name: getattr(win, name) for name in clashes})
    marks = [m for m in _as_list(primary.extra.get("conflict")) if m != other] + [other]
    primary = replace(primary, extra={**primary.extra, "conflict": marks})
    return _files(memory_id, primary, sibling, ours, "conflict", other)


def _files(
    memory_id: str,
    main: Memory,
    side: Memory,
    ours: tuple[str, str],
    outcome: Literal["pair", "conflict"],
    other: str,
) -> FileMerge:
    path = f"{main.kind}/{memory_id}.md"
    write = {path: render_memory(main), f"{side.kind}/{side.id}.md": render_memory(side)}
    remove = (ours[0],) if ours[0] != path else ()
    return FileMerge(f"m:{memory_id}", write, remove, outcome, other)


def _is_revision_of(value: Any, memory_id: str) -> bool:
    # Ours already points at a revision this merge made earlier: re-merging must not undo it.
    return isinstance(value, str) and value.startswith(revision_id(memory_id, "")[:-8])


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]
