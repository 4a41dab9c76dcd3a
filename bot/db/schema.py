"""Every table module, imported in one place so the metadata is complete (create_all, Alembic)."""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.db.tables as _tables


def load_all_tables() -> type[SQLModel]:
    """Import every module in bot.db.tables so SQLModel.metadata knows all tables."""
    for mod in pkgutil.iter_modules(_tables.__path__):
        importlib.import_module(f"{_tables.__name__}.{mod.name}")
    return SQLModel


def create_all(engine: Engine) -> None:
    """Create missing tables directly (tests, the local chat); servers use `samvag db upgrade`."""
    load_all_tables().metadata.create_all(engine)
