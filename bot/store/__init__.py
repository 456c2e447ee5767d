"""The SQLite store: one writer connection and a repository per concern."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from bot.store.channels import ChannelRepo, ChannelRow
from bot.store.db import Database
from bot.store.posts import PostRepo, SaveOutcome, SaveResult, StoredPost
from bot.store.state import StateRepo

__all__ = ["ChannelRow", "SaveOutcome", "SaveResult", "Store", "StoredPost"]


class Store:
    """The database and its repositories: ``posts``, ``channels``, ``state``, ``outbox``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.posts = PostRepo(db)
        self.channels = ChannelRepo(db)
        self.state = StateRepo(db)
        from bot.store.outbox import OutboxRepo  # noqa: PLC0415 - owned by the delivery module

        self.outbox = OutboxRepo(db)

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open and migrate the database at ``path``."""
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
