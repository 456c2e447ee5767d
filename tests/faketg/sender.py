"""A stand-in for Telethon's ``MTProtoSender``: requests go to a ``FakeTelegram``, not a socket.

Every request is serialised to bytes and parsed back (as the server would read it), and
every result is serialised and read back with ``request.read_result`` (as the client would
read it), so the real TL encoding runs in both directions.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telethon.crypto import AuthKey
from telethon.errors import rpc_message_to_error
from telethon.extensions import BinaryReader
from telethon.network.mtprotosender import MTProtoSender
from telethon.tl import TLObject, types

if TYPE_CHECKING:
    from tests.faketg.server import FakeTelegram

_VECTOR = 0x1CB5C415


def to_bytes(result: Any) -> bytes:
    """TL-serialise a result, including the bare ``Vector<T>`` and ``Bool`` results."""
    if isinstance(result, bool):
        return struct.pack("<I", 0x997275B5 if result else 0xBC799737)
    if isinstance(result, list):
        return struct.pack("<Ii", _VECTOR, len(result)) + b"".join(to_bytes(item) for item in result)
    if isinstance(result, int):
        return struct.pack("<q", result)
    assert isinstance(result, TLObject), f"cannot serialise {result!r}"
    return bytes(result)


def round_trip(obj: Any) -> Any:
    """The object as the other side of the wire would see it."""
    with BinaryReader(bytes(obj)) as reader:
        return reader.tgread_object()


class RpcFailure(Exception):
    """Raised by a handler to answer with ``rpc_error`` (code, message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class FakeSender:
    """Answers requests from a ``FakeTelegram`` and receives its pushed updates."""

    def __init__(
        self, server: FakeTelegram, updates_queue: asyncio.Queue[Any], auth_key: AuthKey | None
    ) -> None:
        self.server = server
        self.auth_key = auth_key if auth_key is not None and auth_key.key else AuthKey(os.urandom(256))
        self._updates_queue = updates_queue
        self._user_connected = False
        self._disconnected_future: asyncio.Future[None] | None = None
        self._tasks: dict[asyncio.Task[None], asyncio.Future[Any]] = {}
        self.dc_id = 2
        self._connection: Any = None
        #: called after a dropped connection so the client can react (as Telethon's sender does).
        self._auto_reconnect_callback: Callable[[], Any] | None = None

    # --- the surface TelegramClient uses ------------------------------------------------
    async def connect(self, connection: Any) -> bool:
        if self._user_connected:
            return False
        if self.server.offline:
            raise ConnectionError("fake Telegram is offline")
        self._connection = connection
        self._user_connected = True
        self._disconnected_future = asyncio.get_running_loop().create_future()
        self.server.senders.add(self)
        return True

    def is_connected(self) -> bool:
        return self._user_connected

    def _transport_connected(self) -> bool:
        return self._user_connected

    def _keepalive_ping(self, rnd_id: int) -> None:
        """Pings go nowhere: the fake connection never times out."""

    async def disconnect(self) -> None:
        self._drop(None)
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    @property
    def disconnected(self) -> asyncio.Future[None]:
        if self._disconnected_future is None:
            self._disconnected_future = asyncio.get_running_loop().create_future()
            self._disconnected_future.set_result(None)
        return asyncio.shield(self._disconnected_future)

    def send(self, request: Any, ordered: bool = False) -> Any:
        if not self._user_connected:
            raise ConnectionError("Cannot send requests while disconnected")
        if isinstance(request, list):
            return [self._enqueue(item) for item in request]
        return self._enqueue(request)

    # --- used by FakeTelegram -----------------------------------------------------------
    def push(self, updates: Any) -> None:
        """Deliver an ``Updates`` object as if it arrived on the socket."""
        if self._user_connected:
            self._updates_queue.put_nowait(round_trip(updates))

    def _drop(self, error: Exception | None) -> None:
        """The connection ends (by the user, or by the network with ``error``)."""
        if not self._user_connected:
            return
        self._user_connected = False
        self.server.senders.discard(self)
        for task, pending in list(self._tasks.items()):
            task.cancel()
            if not pending.done():
                if error is None:
                    pending.cancel()
                else:
                    pending.set_exception(error)
        future = self._disconnected_future
        if future is not None and not future.done():
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
                # Nobody may be awaiting it; mark it retrieved so asyncio does not warn.
                future.exception()

    # --- internals -----------------------------------------------------------------------
    def _enqueue(self, request: Any) -> asyncio.Future[Any]:
        wire = round_trip(request)  # also proves the request serialises
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        task = asyncio.get_running_loop().create_task(self._answer(request, wire, future))
        self._tasks[task] = future
        task.add_done_callback(lambda done: self._tasks.pop(done, None))
        return future

    async def _answer(self, request: Any, wire: Any, future: asyncio.Future[Any]) -> None:
        await asyncio.sleep(0)  # answers arrive later, as from a socket
        try:
            result = await self.server.handle(self, wire)
        except RpcFailure as failure:
            error = rpc_message_to_error(types.RpcError(failure.code, failure.message), request)
            if not future.done():
                future.set_exception(error)
            return
        except Exception as error:  # noqa: BLE001 - a bug in a handler must reach the caller
            if not future.done():
                future.set_exception(error)
            return
        with BinaryReader(to_bytes(result)) as reader:
            value = request.read_result(reader)
        # What MTProtoSender does with results that are updates (sent messages, joins).
        MTProtoSender._store_own_updates(self, value)
        if not future.done():
            future.set_result(value)
