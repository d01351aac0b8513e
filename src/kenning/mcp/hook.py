"""A prompt-submit hook: the packet goes into the conversation even when no tool is called.

Claude Code runs a `UserPromptSubmit` hook command with the event as JSON on stdin (`{"prompt":
…, "cwd": …}`) and adds what the command prints to the model's context. `kenning hook prompt` is
that command: it reads the prompt, and when it is worth a brief (not a slash command, not a
two-word "yes, go on"), prints a short packet. It never blocks the user: any failure prints
nothing on stdout and one line on stderr, and the exit code is 0.

The hook runs once per prompt in a new process, so it stays lexical (BM25 + graph, no embedding
model) and never builds an index: a project that was never indexed gets no context here.
"""

from __future__ import annotations

import json
from pathlib import Path

MIN_WORDS = 4
DEFAULT_HOOK_BUDGET = 1200
MAX_PROMPT_CHARS = 20_000


def prompt_of(payload: str) -> str:
    """The user's prompt from a hook event (JSON with "prompt"), or the text itself."""
    text = payload.strip()
    if text.startswith("{"):
        try:
            event = json.loads(text)
        except ValueError:
            return text
        if isinstance(event, dict):
            prompt = event.get("prompt") or event.get("user_prompt") or ""
            return prompt.strip() if isinstance(prompt, str) else ""
    return text


def worth_a_brief(prompt: str) -> bool:
    """False for slash commands and short replies ("yes", "go on", "looks good")."""
    if not prompt or prompt.startswith("/"):
        return False
    return len(prompt.split()) >= MIN_WORDS


def hook_context(directory: Path | str, prompt: str, budget: int = DEFAULT_HOOK_BUDGET) -> str:
    """The Markdown to add to the conversation for `prompt` ("" when there is nothing to add)."""
    from kenning.workspace import Workspace

    if not worth_a_brief(prompt):
        return ""
    ws = Workspace.open(directory)
    try:
        if not ws.has_index():
            return ""
        ws.ensure_index(max_age=0, embed=False)
        packet = ws.brief(prompt[:MAX_PROMPT_CHARS], budget, use_dense=False)
        if not packet.items and not packet.conflicts:
            return ""
        return (
            "<kenning-context>\n"
            "Project context kenning selected for this prompt (rules, decisions, code). "
            "Follow the rules; if the request conflicts with a decision, say so first.\n\n"
            f"{packet.to_markdown()}</kenning-context>\n"
        )
    finally:
        ws.close()
