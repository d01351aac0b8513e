"""Keep secrets out of the index and out of every packet.

Files that exist to hold secrets (`.env`, key stores, credentials) are never read. In every other
file, spans that look like credentials (provider key formats, private key blocks, `password = "…"`
style assignments) are replaced by `[REDACTED:<kind>]` before the text is stored, so nothing
downstream (search, packets, MCP, the model) can see them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

SECRET_FILE_NAMES = frozenset(
    {
        ".env",
        ".envrc",
        ".netrc",
        ".pgpass",
        ".npmrc",
        ".pypirc",
        "credentials",
        "credentials.json",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        ".htpasswd",
        "secrets.yaml",
        "secrets.yml",
        "secrets.json",
        "service-account.json",
    }
)
SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".asc", ".gpg")

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9 ]+ )?PRIVATE KEY(?: BLOCK)?-----.*?-----END [A-Z0-9 ]*-----",
            re.DOTALL,
        ),
    ),
    ("aws-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    ),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("stripe-key", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    ("openai-key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b")),
    ("google-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b")),
    ("url-password", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]{3,}(?=@)")),
    (
        "assigned-secret",
        re.compile(
            # The lookahead is implied by the keywords (each starts with one of these letters);
            # written first, it lets the scan skip every other position (2x faster).
            r"""(?ix)
        (?=[acpst])(?<![\w.])
        ((?:api[_-]?key|apikey|secret(?:[_-]?key)?|passw(?:or)?d|pwd|access[_-]?token|auth[_-]?token|
           client[_-]?secret|private[_-]?key|token)
         ["']?\s*[:=]\s*)
        (["'])([^"'\s]{8,})\2
        """
        ),
    ),
]


# Literals every match of a pattern contains (checked on the current text before its scan).
_NEEDLES: dict[str, tuple[str, ...]] = {
    "private-key": ("PRIVATE KEY",),
    "aws-key": ("AKIA", "ASIA"),
    "github-token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack-token": ("xox",),
    "stripe-key": ("k_live_", "k_test_"),
    "openai-key": ("sk-",),
    "google-key": ("AIza",),
    "jwt": ("eyJ",),
    "url-password": ("://",),
}
_ASSIGNED_NEEDLES = ("key", "secret", "passw", "pwd", "token")


def is_secret_file(path: str) -> bool:
    """True for files that exist to hold secrets (never read, whatever their content)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in SECRET_FILE_NAMES or name.endswith(SECRET_SUFFIXES):
        return True
    return name.startswith(".env.") and not name.endswith((".example", ".sample", ".template"))


# Every assigned secret ends in `= "value"` / `: 'value'`: a scan for that tail (one character
# class to look for) finds the few places where the keyword pattern can match, and the pattern
# runs only on the stretch before each (3x faster than scanning the whole text with it).
_ASSIGNED_TAIL = re.compile(r"""[:=]\s*(["'])[^"'\s]{8,}\1""")
# How far before its `=` a keyword can start, beyond the spaces: the longest keyword
# (`client_secret`, 13 characters) and its closing quote, with room to spare.
_KEYWORD_REACH = 18


def _sub_assigned(
    pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str], text: str
) -> str:
    """`pattern.sub(replace, text)`, with the pattern tried only where an assignment's tail is.

    A match's tail is always an `_ASSIGNED_TAIL` match ending where the match ends, so trying
    the pattern on the stretch that ends each tail (from the start of its possible keyword)
    finds the same matches, in the same order, as the full scan (a property test checks it).
    """
    parts: list[str] = []
    done = 0  # the text before this is settled
    pos = 0
    while (tail := _ASSIGNED_TAIL.search(text, pos)) is not None:
        start = tail.start()
        while start > done and text[start - 1].isspace():
            start -= 1
        found = pattern.search(text, max(done, start - _KEYWORD_REACH), tail.end())
        if found is None:
            pos = tail.start() + 1  # a tail may start inside this one's value
            continue
        parts += [text[done : found.start()], replace(found)]
        done = pos = found.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def redact(text: str) -> tuple[str, int]:
    """`text` with credential-looking spans replaced, and how many were replaced."""
    count = 0

    def assigned(match: re.Match[str]) -> str:
        nonlocal count
        value = match.group(3)
        # Placeholders and constant names are not secrets: `token = "${TOKEN}"`, `"<your key>"`.
        if value.startswith(("${", "{{", "<", "[REDACTED")) or value.isupper():
            return match.group(0)
        count += 1
        return f"{match.group(1)}{match.group(2)}[REDACTED:assigned-secret]{match.group(2)}"

    for kind, pattern in _PATTERNS:
        # Skip a pattern whose required literal is absent: a substring test is ~100x cheaper
        # than the regex scan, and redaction was the costliest stage of indexing a file.
        needles = _NEEDLES.get(kind)
        if needles and not any(n in text for n in needles):
            continue
        if kind == "assigned-secret":
            folded = text.casefold()  # the pattern is case-insensitive (ſ→s, K→k included)
            if not any(n in folded for n in _ASSIGNED_NEEDLES):
                continue
            text = _sub_assigned(pattern, assigned, text)
        else:
            text, n = pattern.subn(f"[REDACTED:{kind}]", text)
            count += n
    return text, count
