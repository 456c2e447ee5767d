"""A manual clock for code that takes ``clock`` and ``sleep`` parameters: no test ever really waits."""

from __future__ import annotations

import asyncio


class FakeClock:
    """``clock()`` returns fake seconds; ``await clock.sleep(s)`` waits until ``advance`` passes it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now + seconds, future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    @property
    def sleeping(self) -> int:
        """How many sleeps are pending."""
        return sum(not future.done() for _, future in self._sleepers)

    async def advance(self, seconds: float) -> None:
        """Move time forward, waking every sleeper that is due (in order), letting each run."""
        target = self.now + seconds
        while True:
            due = sorted(
                ((t, f) for t, f in self._sleepers if t <= target and not f.done()), key=lambda e: e[0]
            )
            if not due:
                break
            when, future = due[0]
            self.now = max(self.now, when)
            future.set_result(None)
            for _ in range(5):
                await asyncio.sleep(0)
        self.now = target
        for _ in range(5):
            await asyncio.sleep(0)
