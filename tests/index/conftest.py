"""Fixtures of the index tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from kenning.index.schema import MIGRATIONS


@pytest.fixture
def index_before() -> Callable[[str], sqlite3.Connection]:
    """An in-memory index with every migration before the one named (an old index's layout)."""

    def build(migration: str) -> sqlite3.Connection:
        db = sqlite3.connect(":memory:")
        db.execute("PRAGMA foreign_keys=ON")
        for name, func in MIGRATIONS:
            if name >= migration:
                break
            with db:
                func(db)
        return db

    return build
