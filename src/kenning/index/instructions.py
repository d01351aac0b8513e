"""Rules and decisions people already wrote for their tools, read as memories.

`CLAUDE.md`, `AGENTS.md`, `GEMINI.md`, `.cursorrules`, `.github/copilot-instructions.md` give one
rule per bullet (or per section without bullets); `.cursor/rules/*.mdc` one rule per file with its
`globs` as scope; ADRs (`docs/adr/`, `doc/adr/`, `adr/`, `docs/decisions/`) one decision each with
the status the ADR states. The files stay the source: these memories carry their path and lines
and are re-read whenever the file changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

INSTRUCTION_FILES = frozenset(
    {
        "CLAUDE.md",
        "AGENTS.md",
        "GEMINI.md",
        ".cursorrules",
        ".github/copilot-instructions.md",
        "CLAUDE.local.md",
        ".windsurfrules",
    }
)
ADR_DIRS = ("docs/adr/", "doc/adr/", "adr/", "docs/decisions/", "docs/architecture/decisions/")
_BULLET = re.compile(r"^(\s{0,3})(?:[-*+]|\d+[.)])\s+(.*)")
_STATUS_WORDS = {
    "accepted": "active",
    "approved": "active",
    "proposed": "active",
    "active": "active",
    "superseded": "superseded",
    "replaced": "superseded",
    "deprecated": "retired",
    "rejected": "retired",
    "retired": "retired",
    "withdrawn": "retired",
}


@dataclass(frozen=True)
class Imported:
    """A memory read from an instruction file or an ADR."""

    kind: str
    title: str
    body: str
    start_line: int
    end_line: int
    scope: tuple[str, ...] = ()
    status: str = "active"
    date: str | None = None


def instruction_kind(path: str) -> str | None:
    """'rules', 'cursor-rule' or 'adr' for files read as memories, else None."""
    if path in INSTRUCTION_FILES or path.endswith(("/CLAUDE.md", "/AGENTS.md", "/GEMINI.md")):
        return "rules"
    if path.startswith(".cursor/rules/") and path.endswith((".mdc", ".md")):
        return "cursor-rule"
    if path.endswith(".md") and any(path.startswith(d) or f"/{d}" in path for d in ADR_DIRS):
        name = path.rsplit("/", 1)[-1].lower()
        if name not in ("readme.md", "index.md", "template.md") and not name.startswith("0000"):
            return "adr"
    return None


def extract(path: str, text: str) -> list[Imported]:
    """The memories in one instruction file or ADR (empty when there are none)."""
    kind = instruction_kind(path)
    if kind == "rules":
        return _rules(path, text)
    if kind == "cursor-rule":
        return _cursor_rule(path, text)
    if kind == "adr":
        adr = _adr(path, text)
        return [adr] if adr else []
    return []


def _folder_scope(path: str) -> tuple[str, ...]:
    """A CLAUDE.md in a sub-folder applies to that folder."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    if not folder or folder in (".github",):
        return ()
    return (f"{folder}/**",)


def _rules(path: str, text: str) -> list[Imported]:
    lines = text.splitlines()
    out: list[Imported] = []
    heading = ""
    para: list[tuple[int, str]] = []
    scope = _folder_scope(path)

    def flush_para() -> None:
        if para and any(t.strip() for _, t in para):
            body = " ".join(t.strip() for _, t in para).strip()
            if len(body) > 20:
                title = body if len(body) <= 120 else body[:117].rsplit(" ", 1)[0] + "…"
                out.append(
                    Imported(
                        "rule", title, _with_heading(heading, body), para[0][0], para[-1][0], scope
                    )
                )
        para.clear()

    i = 0
    in_code = False
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            in_code = not in_code
        if in_code:
            i += 1
            continue
        if re.match(r"#{1,6}\s", line):
            flush_para()
            heading = line.lstrip("#").strip()
            i += 1
            continue
        bullet = _BULLET.match(line)
        if bullet and len(bullet.group(1)) <= 1:
            flush_para()
            start = i
            item = [bullet.group(2).strip()]
            i += 1
            while (
                i < len(lines)
                and lines[i].strip()
                and not _BULLET.match(lines[i])
                and not lines[i].startswith("#")
            ):
                item.append(lines[i].strip())
                i += 1
            while i < len(lines) and _is_sub_bullet(lines[i]):
                item.append(lines[i].strip())
                i += 1
            body = " ".join(item).strip()
            if len(body) >= 8:
                first = item[0]
                title = first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "…"
                out.append(
                    Imported("rule", title, _with_heading(heading, body), start + 1, i, scope)
                )
            continue
        if not line.strip():
            flush_para()
        else:
            para.append((i + 1, line))
        i += 1
    flush_para()
    return out


def _is_sub_bullet(line: str) -> bool:
    match = _BULLET.match(line)
    return match is not None and len(match.group(1)) > 1


def _with_heading(heading: str, body: str) -> str:
    return f"{heading}: {body}" if heading else body


def _cursor_rule(path: str, text: str) -> list[Imported]:
    from kenning.memory import split_front_matter

    front, body = split_front_matter(text)
    meta: dict[str, object] = {}
    if front:
        try:
            loaded = yaml.safe_load(front)
            meta = loaded if isinstance(loaded, dict) else {}
        except yaml.YAMLError:
            meta = {}
    globs = meta.get("globs") or ()
    if isinstance(globs, str):
        globs = [g.strip() for g in globs.split(",") if g.strip()]
    scope = tuple(str(g) for g in globs) if isinstance(globs, list | tuple) else ()
    body = body.strip()
    if not body:
        return []
    description = str(meta.get("description") or "").strip()
    first = re.sub(r"^#+\s*", "", body.splitlines()[0]).strip()
    title = description or first[:120] or path.rsplit("/", 1)[-1]
    offset = len(text.splitlines()) - len(body.splitlines()) + 1
    return [Imported("rule", title, body, offset, len(text.splitlines()), scope)]


def _adr(path: str, text: str) -> Imported | None:
    lines = text.splitlines()
    title = ""
    for line in lines:
        if line.startswith("# "):
            title = line[2:].strip()
            break
    if not title:
        return None
    status = "active"
    date: str | None = None
    for n, line in enumerate(lines):
        # "## Status", "Status: …", "- Status: …" (MADR's list), "**Status:** …", "> Status"
        low = line.strip().lower().lstrip("#*_->+ \t")
        if low.startswith("status"):
            words = re.findall(r"[a-z]+", low[6:])
            if not words and n + 1 < len(lines):
                nxt = next((ln for ln in lines[n + 1 :] if ln.strip()), "")
                words = re.findall(r"[a-z]+", nxt.lower())
            for word in words:
                if word in _STATUS_WORDS:
                    status = _STATUS_WORDS[word]
                    break
        found = re.search(r"\b(\d{4}-\d{2}-\d{2})\b", line)
        if date is None and found and ("date" in low or n < 8):
            date = found.group(1)
    return Imported("decision", title, text.strip(), 1, len(lines), (), status, date)
