"""Memory hygiene: keep the store true over time.

- `anchors`: which files and symbols a memory is about, with a fingerprint of each at record time;
- `staleness`: after each index run, flag memories whose anchors were deleted, renamed, moved or
  rewritten (the flag lives in the index, never in the user's file);
- `dedupe`: near-duplicate detection at write time (lexical + embedding similarity);
- `audit` and `provenance`: who recorded what, with which tool, at which commit;
- `validity`: `valid_from` / `valid_until` and supersession chains (what is in force now);
- `capture`: deterministic memory proposals from a conversation or a commit range;
- `review` and `commands`: the `kenning review`, `history` and `capture` commands.

This package is core: it never imports the CLI, MCP, web or model layers (only `commands.py`
imports click). Submodules are imported directly; this file stays light so `engine` can use
`kenning.hygiene.validity` without loading the rest.
"""

from __future__ import annotations
