"""The local web UI: a loopback server over `Workspace` with a small, dependency-free front end.

`kenning ui` starts it. Modules: `security` (token, Host and Origin rules), `api` (JSON
handlers), `graph` (capped subgraphs of the index), `stale` (memories pointing at code that is
gone), `bench` (benchmark results), `server` (the app and uvicorn), `commands` (the CLI).
"""
