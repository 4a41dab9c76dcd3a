"""Persistence: SQLModel tables, the engine, stores implementing the core's ports, migrations."""
