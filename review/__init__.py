"""The alert store: findings and registry state in SQL (SQLAlchemy 2, Alembic migrations); the queue and UI come later."""

from review.store import FindingStore, StoredRegistryRecord

__all__ = ["FindingStore", "StoredRegistryRecord"]
