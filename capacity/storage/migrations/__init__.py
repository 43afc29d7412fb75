"""Alembic migrations of kapacitet's database (a package so they ship with an install)."""
