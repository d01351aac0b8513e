"""Drive aider's repo map (the peer) for kenning's benchmark: a JSON-lines server on stdin/stdout.

Runs inside aider's own venv (aider-chat 0.86.2, Python 3.11 or 3.12;
`sh bench/peers/setup_aider.sh` makes it), never inside kenning's.
`kenning.bench.peers.AiderRepoMap` starts it and talks to it.

A request is ranked the way aider's `Coder.get_repo_map` ranks it for a chat message with no
files in the chat: the Coder's own methods (`get_file_mentions`, `get_ident_mentions`,
`get_ident_filename_matches`, `get_repo_map` with its two fallbacks) run unchanged on a small
host object, over aider's own `RepoMap` (tree-sitter tags from the grammars bundled in
tree-sitter-language-pack, PageRank over the definition/reference graph). The repository's
files are the list `sync` gave, all of them "other files"; the budget is aider's default
`map_tokens`, 1,024. The answer's paths are the files in the order they first appear in
`RepoMap.get_ranked_tags`' output: files whose definitions rank come first, then the other
files of the graph by PageRank, then files with no tags, as aider's ranked list holds them.
The map text (the request's repo-map message, with aider's `repo_content_prefix`) is returned
too, so the tokens column counts what aider would send.

What is shimmed, and why:

- the model: aider's `Model` resolves its tokenizer through litellm and its context window
  through a model list it may fetch. The shim has only `token_count(text)`, the length of
  tiktoken's cl100k_base encoding, which is what `litellm.encode` gives aider for OpenAI-style
  models; the encoding file is the copy litellm ships (TIKTOKEN_CACHE_DIR points at it), so
  nothing is downloaded and litellm is never imported. With no context window known, RepoMap
  does not widen its budget 8x when the chat holds no files (a session with a known model
  would build an 8,192-token map). The ranking does not depend on the budget; the tokens do.
- the terminal: `InputOutput` becomes a small object with aider's `read_text` behaviour (UTF-8,
  None when unreadable) whose messages go to stderr.
- the git repository: `get_all_relative_files` returns the synced list instead of asking git.
- the tags cache: aider keeps it in `.aider.tags.cache.v4` under the root; here it lives in
  AIDER_BENCH_CACHE (one folder per working copy), because the benchmark cleans untracked
  files out of its checkout. It is aider's own diskcache, keyed by file name and mtime; `sync`
  also drops the entry of every file whose inode, ctime, size or mtime changed since the last
  sync, so a `git checkout` within one mtime tick is never served stale tags. `sync` also
  asks `RepoMap.get_tags` for every file, so tagging (aider's indexing, incremental through
  that cache) is timed with `sync` and `rank` times the ranking, as kenning's brief is timed
  apart from its index.
- the rendered-map cache: `refresh="always"` (the Coder's default is "auto"): each message
  is asked once, on a checkout that has moved, so an in-memory map keyed by the file list
  would only risk answering for a previous parent.

One request per line, one JSON answer per line:

    {"op": "sync", "root": "/abs/checkout", "files": ["pkg/a.py", "pkg/b.py"]}
    {"op": "rank", "query": "commit message", "k": 10}
    -> {"ok": true, "paths": ["pkg/b.py", ...], "map": "...", "map_tokens": 1011,
        "mentioned_fnames": [...], "seconds": 0.41}
    {"op": "quit"}

Nothing phones home: aider's `main` (analytics, version checks, model lists) is never imported,
and litellm is never imported.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# This file sits beside other drivers named like the packages they drive: keep it off the path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("AIDER_ANALYTICS", "false")


def _bundled_tiktoken_dir() -> str | None:
    """litellm's packaged tiktoken files (cl100k_base among them), found without importing it."""
    spec = importlib.util.find_spec("litellm")
    for base in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(base) / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            return str(folder)
    return None


class ShimModel:
    """The one thing RepoMap asks of aider's Model: `token_count(text)`, cl100k_base."""

    name = "cl100k_base (tiktoken, litellm's bundled copy)"

    def __init__(self) -> None:
        folder = _bundled_tiktoken_dir()
        if folder and "TIKTOKEN_CACHE_DIR" not in os.environ:
            os.environ["TIKTOKEN_CACHE_DIR"] = folder
        import tiktoken

        self._encoding = tiktoken.get_encoding("cl100k_base")

    def token_count(self, text: Any) -> int:
        if not isinstance(text, str):
            text = json.dumps(text)
        return len(self._encoding.encode(text, disallowed_special=()))


class QuietIO:
    """aider's InputOutput as RepoMap uses it: `read_text` and messages, to stderr."""

    encoding = "utf-8"

    def read_text(self, filename: str, silent: bool = False) -> str | None:
        try:
            with open(str(filename), encoding=self.encoding) as f:
                return f.read()
        except (OSError, UnicodeError) as exc:
            if not silent:
                self.tool_error(f"{filename}: {exc}")
            return None

    def tool_output(self, *messages: Any, **_: Any) -> None:
        print(*messages, file=sys.stderr)

    tool_warning = tool_output
    tool_error = tool_output


def _coder_class(cache_root: Path) -> type:
    """aider's classes are imported here, after the environment above is set."""
    from aider.coders.base_coder import Coder
    from aider.coders.base_prompts import CoderPrompts
    from aider.repomap import RepoMap

    class RecordingRepoMap(RepoMap):  # type: ignore[misc]
        """aider's RepoMap, its tags cache outside the checkout, its last ranking kept."""

        def __init__(self, root: str, cache_dir: Path, **kwargs: Any) -> None:
            # RepoMap opens `Path(root) / TAGS_CACHE_DIR`; an absolute path wins that join.
            self.TAGS_CACHE_DIR = str(cache_dir)
            self.last_ranked: list[tuple[Any, ...]] | None = None
            super().__init__(root=root, **kwargs)

        def get_ranked_tags(self, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
            self.last_ranked = super().get_ranked_tags(*args, **kwargs)
            return self.last_ranked

    class ChatlessCoder:
        """The parts of aider's Coder that `get_repo_map` reads, with no files in the chat."""

        get_repo_map = Coder.get_repo_map
        get_cur_message_text = Coder.get_cur_message_text
        get_file_mentions = Coder.get_file_mentions
        get_ident_mentions = Coder.get_ident_mentions
        get_ident_filename_matches = Coder.get_ident_filename_matches
        get_inchat_relative_files = Coder.get_inchat_relative_files
        get_addable_relative_files = Coder.get_addable_relative_files
        get_all_abs_files = Coder.get_all_abs_files
        get_rel_fname = Coder.get_rel_fname
        abs_root_path = Coder.abs_root_path

        def __init__(self, root: str, model: ShimModel, io: QuietIO) -> None:
            self.root = root
            self.abs_fnames: set[str] = set()
            self.abs_read_only_fnames: set[str] = set()
            self.abs_root_path_cache: dict[str, str] = {}
            self.cur_messages: list[dict[str, str]] = []
            self.files: list[str] = []
            digest = hashlib.sha1(root.encode()).hexdigest()[:12]
            self.repo_map = RecordingRepoMap(
                root,
                cache_root / f"tags-{digest}",
                map_tokens=1024,
                main_model=model,
                io=io,
                repo_content_prefix=CoderPrompts.repo_content_prefix,
                max_context_window=None,
                refresh="always",
            )

        def get_all_relative_files(self) -> list[str]:
            return sorted(set(self.files))

    return ChatlessCoder


class Server:
    """One ChatlessCoder per working copy; answers the ops."""

    def __init__(self, cache_root: Path) -> None:
        self.cache_root = cache_root
        self.model = ShimModel()
        self.io = QuietIO()
        self._coder_class = _coder_class(cache_root)
        self.coders: dict[str, Any] = {}
        self.current: Any = None
        self._seen: dict[str, dict[str, tuple[int, int, int, int]]] = {}

    def sync(self, root: str, files: list[str]) -> dict[str, Any]:
        root = str(Path(root).resolve())
        coder = self.coders.get(root)
        if coder is None:
            coder = self.coders[root] = self._coder_class(root, self.model, self.io)
        coder.files = list(files)
        seen = self._seen.setdefault(root, {})
        stale = 0
        repo_map = coder.repo_map
        for rel in files:
            full = os.path.join(root, rel)
            try:
                info = os.stat(full)
            except OSError:
                continue
            key = (info.st_ino, info.st_ctime_ns, info.st_size, info.st_mtime_ns)
            before = seen.get(rel)
            if before is not None and before != key:
                # The file was rewritten: forget its tags even if its mtime reads the same.
                abs_name = coder.abs_root_path(rel)
                try:
                    repo_map.TAGS_CACHE.pop(abs_name, None)
                except Exception as exc:  # noqa: BLE001 - aider's own cache error path
                    repo_map.tags_cache_error(exc)
                repo_map.tree_context_cache.pop(rel, None)
                stale += 1
            seen[rel] = key
            # Parse now what aider would parse on the next map (its own mtime-keyed cache):
            # the ranking is then timed apart from tagging, as kenning's brief is from its index.
            repo_map.get_tags(coder.abs_root_path(rel), rel)
        self.current = coder
        return {"files": len(files), "rewritten": stale}

    def rank(self, query: str, k: int) -> dict[str, Any]:
        coder = self.current
        if coder is None:
            raise RuntimeError("rank before sync")
        coder.cur_messages = [{"role": "user", "content": query}]
        coder.repo_map.last_ranked = None
        content = coder.get_repo_map() or ""
        ranked = coder.repo_map.last_ranked or []
        paths = list(dict.fromkeys(str(tag[0]) for tag in ranked if tag and tag[0]))
        mentioned = sorted(coder.get_file_mentions(query))
        return {
            "paths": paths[:k],
            "map": content,
            "map_tokens": self.model.token_count(content) if content else 0,
            "mentioned_fnames": mentioned,
        }


def serve() -> None:
    cache_root = Path(
        os.environ.get("AIDER_BENCH_CACHE") or Path.home() / ".cache" / "kenning-bench-aider-tags"
    )
    cache_root.mkdir(parents=True, exist_ok=True)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything aider prints must not corrupt the answers
    server = Server(cache_root)
    for line in sys.stdin:
        request: dict[str, Any] = json.loads(line)
        op = request.get("op")
        started = time.perf_counter()
        answer: dict[str, Any] = {"ok": True}
        try:
            if op == "quit":
                out.write(json.dumps(answer) + "\n")
                out.flush()
                return
            if op == "sync":
                answer.update(server.sync(request["root"], list(request["files"])))
            elif op == "rank":
                answer.update(server.rank(request["query"], int(request.get("k", 10))))
            else:
                answer = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report the peer's failure, keep serving
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:1000]}
        answer["seconds"] = round(time.perf_counter() - started, 4)
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
