"""A deterministic, realistic corpus for the latency suite: real Python files plus memories.

Source files are copied from the Python installation running the benchmark: the venv's
site-packages (Python, stubs, C and JS sources), then the standard library, then, only when those
hold too few, the base interpreter's own site-packages; the result says how many came from where. The selection is a stable
pseudo-random sample (files ordered by a hash of their path), so the same interpreter always
yields the same corpus. Memories are generated from templates filled with the package, module,
function and class names of the copied files, in the kinds and proportions a real project
accumulates, and written straight to `.kenning/memories/<kind>/` in the documented format.
Requests are generated the same way, across every intent the router knows.
"""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kenning.memory import Memory, render_memory, slugify

MAX_FILE_BYTES = 200_000
KIND_SHARES = (
    ("fact", 0.24),
    ("note", 0.24),
    ("decision", 0.16),
    ("rule", 0.12),
    ("preference", 0.10),
    ("term", 0.09),
    ("person", 0.05),
)
_DEF = re.compile(r"^\s*def ([a-z_][a-z0-9_]{3,40})\(", re.MULTILINE)
_CLASS = re.compile(r"^class ([A-Z][A-Za-z0-9]{3,40})[(:]", re.MULTILINE)


@dataclass
class Vocabulary:
    """Names harvested from the corpus, to make memories and requests point at real code."""

    packages: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)


SOURCE_SUFFIXES = (".py", ".pyi", ".pyx", ".pxd", ".c", ".h", ".cc", ".cpp", ".hpp", ".js", ".ts")


def source_roots() -> list[tuple[str, Path]]:
    """(label, folder) in order of preference: the venv's site-packages, the standard library,
    then the base interpreter's own site-packages (only reached when the first two are short)."""
    paths = sysconfig.get_paths()
    roots: list[tuple[str, Path]] = []
    stdlib = Path(paths["stdlib"])
    for label, folder in (
        ("site", Path(paths["purelib"])),
        ("site", Path(paths["platlib"])),
        ("stdlib", stdlib),
        ("base-site", stdlib / "site-packages"),
    ):
        if folder.is_dir() and all(folder != r for _, r in roots):
            roots.append((label, folder))
    return roots


def candidates(roots: list[tuple[str, Path]] | None = None) -> Iterator[tuple[Path, str]]:
    """(source file, corpus-relative path) for every usable source file under the roots."""
    for label, root in roots or source_roots():
        suffixes = SOURCE_SUFFIXES if label == "site" else (".py",)
        for path in root.rglob("*"):
            if path.suffix not in suffixes:
                continue
            rel = path.relative_to(root)
            if (
                label == "stdlib"
                and rel.parts
                and rel.parts[0] in ("site-packages", "dist-packages")
            ):
                continue
            if any(p == "__pycache__" for p in rel.parts):
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if 0 < size <= MAX_FILE_BYTES:
                yield path, f"{label}/{rel.as_posix()}"


def select_files(count: int, roots: list[tuple[str, Path]] | None = None) -> list[tuple[Path, str]]:
    """`count` files: every root in order of preference, each a stable sample (ordered by a
    hash of the corpus path) when it holds more than is still needed."""
    chosen: list[tuple[Path, str]] = []
    for root in roots or source_roots():
        if len(chosen) >= count:
            break
        pool = sorted(candidates([root]), key=lambda pr: hashlib.sha1(pr[1].encode()).hexdigest())
        chosen += pool[: count - len(chosen)]
    return sorted(chosen, key=lambda pr: pr[1])


def composition(files: list[tuple[Path, str]]) -> dict[str, int]:
    """How many files of each origin and suffix a selection holds (for the report)."""
    counts: dict[str, int] = {}
    for path, rel in files:
        key = f"{rel.split('/')[0]} {path.suffix}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def copy_files(files: list[tuple[Path, str]], root: Path) -> Vocabulary:
    """Copy the files under `root/src/` and harvest names from them."""
    vocab = Vocabulary()
    packages: dict[str, None] = {}
    functions: dict[str, None] = {}
    classes: dict[str, None] = {}
    for source, rel in files:
        target = root / "src" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        parts = rel.split("/")
        if len(parts) > 2:
            packages.setdefault(parts[1], None)
        vocab.paths.append(f"src/{rel}")
        if len(functions) < 4000 or len(classes) < 1500:
            try:
                text = source.read_text(errors="replace")
            except OSError:
                continue
            for name in _DEF.findall(text)[:6]:
                if not name.startswith("__"):
                    functions.setdefault(name, None)
            for name in _CLASS.findall(text)[:3]:
                classes.setdefault(name, None)
    vocab.packages = [p.removesuffix(".py") for p in packages] or ["core"]
    vocab.functions = list(functions) or ["run"]
    vocab.classes = list(classes) or ["Engine"]
    return vocab


FIRST = "Ana Ben Chloe Dmitri Esra Farid Grace Hiro Ines Jonas Keiko Lena Marco Nadia Omar Priya".split()
LAST = (
    "Alvarez Brandt Chen Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Laurent".split()
)
TEAMS = "platform billing search infra mobile data security growth payments identity".split()
TECH = (
    "PostgreSQL SQLite Redis Kafka RabbitMQ gRPC GraphQL REST Celery asyncio threads "
    "protobuf msgpack JSON YAML TOML S3 Terraform Docker Kubernetes Sentry OpenTelemetry"
).split()
NOUNS = (
    "timeout retry cache backoff pagination encoding locale config parser serializer "
    "connection pool migration schema index checksum token session handshake buffer"
).split()
EDGES = (
    "an empty input",
    "unicode file names",
    "Windows paths",
    "a closed socket",
    "a missing config file",
    "very large payloads",
    "a leap day",
    "concurrent writers",
    "a read-only filesystem",
    "Python 3.13",
)


def _memory_text(
    kind: str, rng: random.Random, v: Vocabulary, n: int
) -> tuple[str, str, dict[str, list[str]]]:
    pkg = rng.choice(v.packages)
    fn = rng.choice(v.functions)
    cls = rng.choice(v.classes)
    tech, tech2 = rng.sample(TECH, 2)
    noun = rng.choice(NOUNS)
    edge = rng.choice(EDGES)
    extra: dict[str, list[str]] = {}
    if kind == "decision":
        title = f"Use {tech} for the {pkg} {noun}, not {tech2}"
        body = (
            f"We ruled out {tech2} because its {noun} handling broke on {edge}. "
            f"{cls} now goes through {tech}; `{fn}` is the only entry point."
        )
    elif kind == "rule":
        title = f"Never call `{fn}` without a {noun} in {pkg}"
        body = f"Every call site of `{fn}` passes an explicit {noun}; reviews reject code that relies on the default."
        extra["scope"] = [f"src/*/{pkg}/**"]
    elif kind == "preference":
        title = rng.choice(
            [
                f"Prefer small functions over {cls}-style classes",
                f"Prefer {tech} in new code",
                f"Keep tests next to the {pkg} module they test",
                "Explain the why in comments, not the what",
                f"Prefer dataclasses to dicts for {noun} records",
            ]
        )
        body = f"Said while reviewing `{fn}` in {pkg}."
    elif kind == "person":
        first, last = rng.choice(FIRST), rng.choice(LAST)
        team = rng.choice(TEAMS)
        title = f"{first} {last}"
        body = f"{first} leads the {team} team and owns {pkg}; ask them before changing `{fn}` or {cls}."
        extra["aliases"] = [first, f"{first[0]}{last[0]}".lower()]
    elif kind == "term":
        word = f"{noun}-{pkg}".replace("_", "-")
        title = word
        body = f"In this codebase a {word} is the {noun} that {cls} keeps per {rng.choice(NOUNS)}; see `{fn}`."
        extra["aliases"] = [f"{noun} {pkg}"]
    elif kind == "fact":
        title = f"{pkg} {noun} limit is {rng.choice([8, 16, 30, 64, 100, 512])}"
        body = f"Measured in production: `{fn}` fails above it with {edge}."
    else:
        title = f"{cls}: {noun} bug with {edge}"
        body = (
            f"Seen while debugging `{fn}` in {pkg}: the {noun} is recomputed on every call "
            f"and {tech} gets hammered. Workaround in place; proper fix pending (#{1000 + n})."
        )
    if rng.random() < 0.3:
        extra["tags"] = [pkg, noun]
    return title, body, extra


def write_memories(root: Path, count: int, vocab: Vocabulary, seed: int = 7) -> dict[str, int]:
    """`count` generated memories under `root/.kenning/memories/`; returns counts per kind."""
    rng = random.Random(seed)
    kinds = [k for k, _ in KIND_SHARES]
    weights = [w for _, w in KIND_SHARES]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    counts: dict[str, int] = {}
    for n in range(count):
        kind = rng.choices(kinds, weights)[0]
        title, body, extra = _memory_text(kind, rng, vocab, n)
        when = start + timedelta(minutes=97 * n)
        memory = Memory(
            id=f"{slugify(title, max_len=40)}-{n:05x}",
            kind=kind,
            title=title,
            body=body,
            created=when,
            updated=when,
            scope=tuple(extra.get("scope", ())),
            aliases=tuple(extra.get("aliases", ())),
            tags=tuple(extra.get("tags", ())),
            source="bench",
        )
        folder = root / ".kenning" / "memories" / kind
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{memory.id}.md").write_text(render_memory(memory))
        counts[kind] = counts.get(kind, 0) + 1
    (root / ".kenning" / ".gitignore").write_text("index/\n")
    return counts


def requests(count: int, vocab: Vocabulary, seed: int = 11) -> list[str]:
    """`count` varied requests across intents, naming real packages, functions and classes."""
    rng = random.Random(seed)
    templates = [
        "fix the bug in {fn} where the {noun} is lost on {edge}",
        "{fn} raises on {edge}, why?",
        "how does {fn} work?",
        "explain the {noun} handling in {pkg}",
        "add tests for {fn} covering {edge}",
        "refactor {cls} to use {tech} instead of {tech2}",
        "implement a {noun} option for {cls}",
        "why did we choose {tech} for {pkg}?",
        "who owns {pkg}?",
        "what is a {noun}-{pkg}?",
        "review the change to {path}",
        "document the {noun} parameter of {fn}",
        "deploy the {pkg} service with the new {noun} config",
        "should we switch {pkg} from {tech} to {tech2}?",
        "what did we decide about {noun} in {pkg}?",
        "speed up {fn}, it is slow with {edge}",
        "{cls}.{fn} returns None when the {noun} is missing; expected an error. "
        "This started after the {tech} upgrade. Can you find where {noun} gets dropped "
        "and add a regression test?",
        "rename {fn} to something clearer and update the callers in {pkg}",
    ]
    out: list[str] = []
    for _ in range(count):
        tech, tech2 = rng.sample(TECH, 2)
        out.append(
            rng.choice(templates).format(
                fn=rng.choice(vocab.functions),
                cls=rng.choice(vocab.classes),
                pkg=rng.choice(vocab.packages),
                path=rng.choice(vocab.paths) if vocab.paths else "src/app.py",
                noun=rng.choice(NOUNS),
                edge=rng.choice(EDGES),
                tech=tech,
                tech2=tech2,
            )
        )
    return out


def build(
    root: Path, files: int, memories: int
) -> tuple[Vocabulary, dict[str, int], list[tuple[Path, str]]]:
    """The whole corpus under `root`: (vocabulary, memories per kind, files copied)."""
    selected = select_files(files)
    vocab = copy_files(selected, root)
    counts = write_memories(root, memories, vocab)
    return vocab, counts, selected
