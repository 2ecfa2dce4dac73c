"""Persistence: typed SQLAlchemy 2.0 models and the engine/session factory."""
