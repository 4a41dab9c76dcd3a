"""Alembic migrations (loaded by path by Alembic; a package so installs ship them)."""
