"""Persistence: SQLAlchemy 2 models, engine and unit of work, audit chain, outbox, migrations."""
