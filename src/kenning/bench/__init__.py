"""`kenning bench`: reproducible benchmarks of kenning against a plain baseline and its peers.

Each suite is a module with a `run(...)` returning a JSON-ready dict: `latency` (index and brief
speed on a generated corpus or the current project), `locomo` (conversational evidence recall),
`history` (commit message → files the commit changed). `report` renders the dicts as tables,
plots and `docs/benchmarks.md`; `commands` is the click layer.
"""
