"""Commands in the analyst chat (bot mode): /status, /digest [6h], /incidents [governorate] [days], /help.

``CommandHandler.answer`` decides what to reply (None: ignore); only configured chat ids are
answered, anything else is logged and ignored. ``register_commands`` wires it to a Telethon
bot client.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telethon import errors, events

from bot.digest.compose import SCAN_MARGIN, Clock, DigestConfig, Digester, utc_now
from bot.digest.governorates import find_governorate
from bot.digest.policy import summary_entries
from bot.digest.render import DigestView, render_digest
from bot.durations import parse_duration
from bot.logs import get_logger
from bot.metrics import Metrics
from bot.store import Store

if TYPE_CHECKING:
    from telethon import TelegramClient

log = get_logger(__name__)

HELP = (
    "<b>convoywatch</b> commands\n"
    "/status: channels, last post seen, pending digests, flood waits\n"
    "/digest [6h]: a digest now (default: since the last scheduled digest)\n"
    "/incidents [governorate] [days]: incidents by attack date (default: all, 7 days)\n"
    "/help: this list"
)
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?$", re.DOTALL)
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed ``/command arg ...``."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to answer with (HTML), optionally with a PNG."""

    html: str
    attachment: bytes | None = None


def parse_command(text: str, bot_username: str | None = None) -> Command | None:
    """``/digest@convoy_bot 6h`` -> Command("digest", ("6h",)); None for plain text or other bots."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    name, target, rest = match.group(1).lower(), match.group(2), match.group(3) or ""
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return Command(name, tuple(rest.split()))


def normalise_chat(chat: str | int) -> str:
    """A chat id as compared with the configured ones (``-100123`` and ``+42`` as ints as text)."""
    text = str(chat).strip()
    return str(int(text)) if re.fullmatch(r"[-+]?\d+", text) else text.lstrip("@").lower()


class CommandHandler:
    """Answers commands from the configured analyst chats."""

    def __init__(
        self,
        store: Store,
        config: DigestConfig,
        *,
        allowed: Collection[str],
        metrics: Metrics | None = None,
        clock: Clock = utc_now,
        bot_username: str | None = None,
        next_digest: Callable[[dt.datetime], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.allowed = {normalise_chat(chat) for chat in allowed}
        self.metrics = metrics or Metrics()
        self.clock = clock
        self.bot_username = bot_username
        self.next_digest = next_digest

    async def answer(self, chat_id: str | int, text: str) -> list[Reply] | None:
        """The replies to ``text`` from ``chat_id``; None when it is not ours to answer."""
        command = parse_command(text, self.bot_username)
        if command is None:
            return None
        if normalise_chat(chat_id) not in self.allowed:
            log.warning("command.ignored_chat", chat_id=str(chat_id), command=command.name)
            return None
        log.info("command.received", chat_id=str(chat_id), command=command.name, args=list(command.args))
        try:
            if command.name == "status":
                return [Reply(await self._status())]
            if command.name == "digest":
                return await self._digest(command.args)
            if command.name == "incidents":
                return await self._incidents(command.args)
            if command.name in {"help", "start"}:
                return [Reply(HELP)]
        except ValueError as error:
            return [Reply(f"⚠️ {html.escape(str(error))}\n\n{HELP}")]
        return [Reply(f"Unknown command /{html.escape(command.name)}.\n\n{HELP}")]

    async def _status(self) -> str:
        stats = await self.store.posts.stats()
        counts = await self.store.outbox.counts()
        row = await self.store.db.read_one("SELECT MAX(date), MAX(first_seen) FROM posts")
        zone = self.config.zone
        last_post = _when(row[0], zone) if row and row[0] else "none yet"
        last_stored = _when(row[1], zone) if row and row[1] else "none yet"
        last_sent = _when(counts.last_sent_at.isoformat(), zone) if counts.last_sent_at else "none yet"
        floods = sum(
            sample.value
            for metric in self.metrics.flood_waits.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )
        lines = [
            "<b>convoywatch status</b>",
            f"channels: {stats['channels']} · posts: {stats['posts']} · relevant: {stats['relevant_posts']}",
            f"incidents: {stats['incidents']} · events: {stats['events']}",
            f"last post seen: {last_post} (stored {last_stored})",
            f"digests pending: {counts.pending_digests} ({counts.pending_parts} messages)"
            f" · sent messages: {counts.sent_parts} · last sent: {last_sent}",
            f"flood waits since start: {int(floods)}",
        ]
        if self.next_digest is not None:
            lines.append(f"next digest: {_when(self.next_digest(self.clock()).isoformat(), zone)}")
        return "\n".join(lines)

    async def _digest(self, args: tuple[str, ...]) -> list[Reply]:
        since = parse_duration(args[0]) if args else None
        now = self.clock()
        if since is None:
            last = await self.store.outbox.last_created("periodic")
            changed_since = last - SCAN_MARGIN if last else utc_now() - self.config.initial_lookback
            period_start = now - (utc_now() - changed_since)
        else:
            changed_since, period_start = utc_now() - since, now - since
        composed = await Digester(self.store, self.config, clock=self.clock).digest(
            kind="manual",
            key=f"command:{now.isoformat()}",
            period_start=period_start,
            period_end=now,
            changed_since=changed_since,
            force=True,
            commit=False,
        )
        assert composed is not None  # forced previews always render
        chat = self.config.chats[0]
        return [Reply(m.body, m.attachment) for m in composed.messages if m.chat_id == chat]

    async def _incidents(self, args: tuple[str, ...]) -> list[Reply]:
        days = 7
        governorate = None
        words: list[str] = []
        for arg in args:
            if re.fullmatch(r"\d+d?", arg.lower()):
                days = int(arg.lower().rstrip("d"))
                if not 1 <= days <= MAX_DAYS:
                    raise ValueError(f"days must be between 1 and {MAX_DAYS}")
            else:
                words.append(arg)
        if words:
            governorate = find_governorate(" ".join(words))
            if governorate is None:
                raise ValueError(f"unknown governorate {' '.join(words)!r}")
        now = self.clock()
        today = now.astimezone(self.config.zone).date()
        first_day = today - dt.timedelta(days=days - 1)
        incidents = [
            incident
            for incident in await self.store.posts.incidents()
            if incident.date >= first_day and (governorate is None or incident.admin1 == governorate.code)
        ]
        where = f" in {governorate.name}" if governorate else ""
        title = f"Incidents{where}, last {days} day{'s' if days != 1 else ''}"
        start = dt.datetime.combine(first_day, dt.time(), tzinfo=self.config.zone)
        told = await self.store.outbox.told(self.config.chats[0], [i.incident_id for i in incidents])
        view = DigestView(
            title, start, now, self.config.zone, summary_entries(incidents, told), empty_text="No incidents."
        )
        return [Reply(part) for part in render_digest(view)]


def _when(value: str, zone: dt.tzinfo) -> str:
    moment = dt.datetime.fromisoformat(value).astimezone(zone)
    return f"{moment:%Y-%m-%d %H:%M} ({zone})"


def register_commands(client: TelegramClient, handler: CommandHandler) -> Callable[[Any], Any]:
    """Answer commands arriving at the bot client; returns the registered callback."""

    async def on_message(event: Any) -> None:
        replies = await handler.answer(event.chat_id, event.raw_text or "")
        for reply in replies or ():
            try:
                if reply.attachment is not None:
                    photo = io.BytesIO(reply.attachment)
                    photo.name = "digest.png"
                    await event.respond(reply.html, file=photo, parse_mode="html")
                else:
                    await event.respond(reply.html, parse_mode="html", link_preview=False)
            except (errors.RPCError, ConnectionError, OSError) as error:
                log.warning("command.reply_failed", chat_id=str(event.chat_id), error=str(error))
                return

    client.add_event_handler(on_message, events.NewMessage(incoming=True, pattern=r"^/"))
    return on_message


__all__ = ["HELP", "Command", "CommandHandler", "Reply", "parse_command", "register_commands"]
