"""Cut a file into chunks: code by definitions (see `code.py`), prose by headings, the rest by
line windows. Pure functions over text; nothing here touches the disk or the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

WINDOW_LINES = 60
MAX_SECTION_LINES = 120

LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".md": "markdown",
    ".mdx": "markdown",
    ".markdown": "markdown",
    ".mdc": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".adoc": "text",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".kt": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".sql": "sql",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".ini": "ini",
    ".cfg": "ini",
    ".html": "html",
    ".css": "css",
    ".scss": "css",
    ".vue": "vue",
    ".svelte": "svelte",
    ".tf": "terraform",
    ".proto": "proto",
    ".graphql": "graphql",
}
PROSE = frozenset({"markdown", "rst", "text"})
SPECIAL_NAMES = {
    "Makefile": "make",
    "Dockerfile": "docker",
    "Justfile": "make",
    "Jenkinsfile": "groovy",
    ".cursorrules": "markdown",
    "Procfile": "text",
    "LICENSE": "text",
    "CODEOWNERS": "text",
}


@dataclass(frozen=True)
class Chunk:
    """A span of a file: `kind` is 'symbol' (a definition), 'file' (module-level code) or 'doc'."""

    kind: str
    title: str
    start_line: int
    end_line: int
    text: str
    symbol: str | None = None
    symbol_kind: str | None = None


@dataclass
class ParsedFile:
    """What the index keeps of one file."""

    language: str
    chunks: list[Chunk] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    # Each definition's name, kind and lines; no text (a chunk has it): copying every method's
    # text into its symbol too was a third of what the parsers sent the writer.
    symbols: list[Chunk] = field(default_factory=list)


def detect_language(path: str) -> str | None:
    """The language of a project-relative path, or None when kenning does not read that type."""
    name = path.rsplit("/", 1)[-1]
    if name in SPECIAL_NAMES:
        return SPECIAL_NAMES[name]
    dot = name.rfind(".")
    if dot <= 0 and not name.startswith("."):
        return None
    return LANGUAGES.get(name[dot:].lower())


def chunk_prose(path: str, text: str) -> list[Chunk]:
    """Markdown and friends by headings; long sections split into windows."""
    lines = text.splitlines()
    heads = [
        i
        for i, line in enumerate(lines)
        if re.match(r"#{1,6}\s", line)
        or (i + 1 < len(lines) and re.match(r"[=-]{3,}\s*$", lines[i + 1]) and line.strip())
    ]
    starts = sorted(set([0] + heads))
    chunks: list[Chunk] = []
    stack: list[tuple[int, str]] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = lines[start:end]
        if not "".join(body).strip():
            continue
        heading = body[0].lstrip("#").strip() if start in heads else ""
        level = len(body[0]) - len(body[0].lstrip("#")) if body[0].startswith("#") else 1
        if heading:
            stack = [(lv, h) for lv, h in stack if lv < level] + [(level, heading)]
        trail = " › ".join(h for _, h in stack) if heading else path
        for s in range(0, len(body), MAX_SECTION_LINES):
            part = body[s : s + MAX_SECTION_LINES]
            if "".join(part).strip():
                chunks.append(
                    Chunk(
                        "doc", trail or path, start + s + 1, start + s + len(part), "\n".join(part)
                    )
                )
    return chunks


def chunk_windows(path: str, text: str, kind: str = "file") -> list[Chunk]:
    """Fixed windows of lines, cut at a blank line near the window's end when there is one."""
    lines = text.splitlines()
    chunks: list[Chunk] = []
    start = 0
    while start < len(lines):
        end = min(start + WINDOW_LINES, len(lines))
        if end < len(lines):
            for cut in range(end, start + WINDOW_LINES // 2, -1):
                if not lines[cut - 1].strip():
                    end = cut
                    break
        part = "\n".join(lines[start:end])
        if part.strip():
            chunks.append(Chunk(kind, path, start + 1, end, part))
        start = end
    return chunks


def parse_file(path: str, text: str) -> ParsedFile:
    """Chunks, symbols and raw import targets of one file's text."""
    language = detect_language(path) or "text"
    if language in PROSE:
        return ParsedFile(language, chunk_prose(path, text))
    from kenning.index import code  # tree-sitter loads only when code is indexed

    parsed = code.parse_code(path, text, language)
    if parsed is not None:
        return parsed
    return ParsedFile(language, chunk_windows(path, text))
