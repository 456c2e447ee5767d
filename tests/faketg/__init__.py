"""A fake Telegram at the RPC layer: real Telethon clients, an in-memory server (see README.md)."""

from tests.faketg.sender import FakeSender, RpcFailure
from tests.faketg.server import API_HASH, API_ID, FakeChannel, FakeTelegram, Sent, settle

__all__ = ["API_HASH", "API_ID", "FakeChannel", "FakeSender", "FakeTelegram", "RpcFailure", "Sent", "settle"]
