"""Storage of validated datasets in SQLite or PostgreSQL, with versioned capacity declarations.

    >>> report = load_folder("sqlite:///var/kapacitet.sqlite", "contract/example")
    >>> dataset = read_snapshot("sqlite:///var/kapacitet.sqlite", week="2026-W48")

See docs/storage.md for the tables and the versioning rules.
"""

from capacity.storage.database import create_database_engine, resolve_url, upgrade_database
from capacity.storage.repository import (
    HORIZON_WEEKS,
    DeclarationCounts,
    LoadRejected,
    LoadReport,
    UpsertCounts,
    declaration_history,
    load_dataset,
    load_folder,
    read_snapshot,
    table_counts,
)

__all__ = [
    "HORIZON_WEEKS",
    "DeclarationCounts",
    "LoadRejected",
    "LoadReport",
    "UpsertCounts",
    "create_database_engine",
    "declaration_history",
    "load_dataset",
    "load_folder",
    "read_snapshot",
    "resolve_url",
    "table_counts",
    "upgrade_database",
]
