"""Alembic migrations of the CRM tables (run them with `calsync db upgrade`)."""
