"""The derived index: a SQLite file rebuilt from the repo and the memory store at any time."""
