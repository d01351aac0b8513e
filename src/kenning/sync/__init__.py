"""Context that follows the user: project identity, git sync of the personal store, portable
export/import, and the team server on PostgreSQL.

Submodules are imported on use (`kenning.sync.gitsync`, `.archive`, `.pgstore`, `.team`), so
importing this package costs nothing and the optional PostgreSQL driver is only needed by the
team server.
"""
