"""Compose digests and alerts from the store and commit them to the outbox (adapter).

``Digester`` reads incidents, decides per chat what is new or updated (from the notices of
earlier digests), renders, draws the chart, archives the digest under ``data_dir`` and
commits everything to the outbox in one transaction. Sending is ``deliver.DeliveryWorker``'s job.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.digest.chart import render_chart
from bot.digest.policy import (
    AlertPolicy,
    DigestEntry,
    alert_key,
    digest_entries,
    incident_version,
    new_alert_reasons,
    summary_entries,
)
from bot.digest.render import DigestView, render_alert, render_blocks, render_caption, split_blocks, to_plain
from bot.logs import get_logger
from bot.model import Incident
from bot.settings import Settings
from bot.store import Store
from bot.store.outbox import Notice, OutMessage

log = get_logger(__name__)

Clock = Callable[[], dt.datetime]

#: Scans overlap by this much so a write racing a scan is seen by the next one.
SCAN_MARGIN = dt.timedelta(minutes=5)

#: The chat id used for the console/file sinks when no analyst chat is configured.
LOCAL_CHAT = "local"

TITLES = {
    "periodic": "Convoy attacks · digest",
    "daily": "Convoy attacks · daily summary",
    "manual": "Convoy attacks · digest on request",
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """What composing needs from the settings."""

    chats: tuple[str, ...] = (LOCAL_CHAT,)
    zone: dt.tzinfo = field(default_factory=lambda: zoneinfo.ZoneInfo("Asia/Baghdad"))
    send_empty: bool = False
    data_dir: Path | None = None
    policy: AlertPolicy = field(default_factory=AlertPolicy)
    chart: bool = True
    #: The first digest ever looks back this far (by when incidents were stored or changed).
    initial_lookback: dt.timedelta = dt.timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestConfig:
        return cls(
            chats=tuple(settings.chat_ids) or (LOCAL_CHAT,),
            zone=settings.zone,
            send_empty=settings.send_empty,
            data_dir=settings.data_dir,
            policy=AlertPolicy(
                min_sources=settings.alert_min_sources,
                min_casualties=settings.alert_min_casualties,
                on_claim=settings.alert_on_claim,
                governorates=frozenset(settings.alert_governorates),
            ),
        )


@dataclass(frozen=True, slots=True)
class Composed:
    """A digest rendered (and, unless a preview, committed): its parts per chat and archive files."""

    kind: str
    key: str
    digest_id: int | None
    incidents: int
    messages: tuple[OutMessage, ...]
    html: str
    chart: bytes | None
    files: tuple[Path, ...] = ()

    @property
    def plain(self) -> str:
        return to_plain(self.html)


class Digester:
    """Builds digests and alerts from the store and commits them to the outbox."""

    def __init__(self, store: Store, config: DigestConfig, *, clock: Clock = utc_now) -> None:
        self.store = store
        self.config = config
        self.clock = clock

    async def digest(
        self,
        *,
        kind: str,
        key: str,
        period_start: dt.datetime | None,
        period_end: dt.datetime,
        changed_since: dt.datetime | None,
        force: bool = False,
        commit: bool = True,
    ) -> Composed | None:
        """Compose a digest of the incidents stored or changed after ``changed_since``.

        ``changed_since`` is in the store's time (when incidents were written), the period
        is what the heading shows. Periodic digests tell each chat only what it was not
        told yet (updates marked), so overlapping windows never repeat an incident;
        ``daily`` and ``manual`` digests list everything in the window (what was already
        sent marked so). Returns None (and
        commits nothing) when there is nothing to say, unless ``send_empty`` or ``force``;
        None too when ``key`` was committed before.
        """
        if commit and await self.store.outbox.exists(key):
            log.info("digest.already_composed", key=key)
            return None
        incidents = await self.store.posts.incidents(changed_since=changed_since)
        per_chat: dict[str, tuple[DigestEntry, ...]] = {}
        for chat in self.config.chats:
            told = await self.store.outbox.told(chat, [i.incident_id for i in incidents])
            if kind == "periodic":
                per_chat[chat] = digest_entries(incidents, told)
            else:
                per_chat[chat] = summary_entries(incidents, told)
        if not any(per_chat.values()) and not (self.config.send_empty or force):
            log.info("digest.nothing_new", kind=kind, key=key)
            return None
        title = TITLES.get(kind, TITLES["periodic"])
        messages: list[OutMessage] = []
        notices: list[Notice] = []
        charts: dict[tuple[int, ...], bytes] = {}
        reference: tuple[str, bytes | None] | None = None
        for chat, entries in per_chat.items():
            view = DigestView(title, period_start, period_end, self.config.zone, entries)
            html = "".join(render_blocks(view))
            chart: bytes | None = None
            if entries and self.config.chart:
                ids = tuple(sorted(entry.incident.incident_id for entry in entries))
                if ids not in charts:
                    charts[ids] = await asyncio.to_thread(
                        render_chart,
                        [entry.incident for entry in entries],
                        title=title,
                        period_start=period_start,
                        period_end=period_end,
                        zone=self.config.zone,
                    )
                chart = charts[ids]
            seq = 0
            if chart is not None:
                messages.append(OutMessage(chat, seq, render_caption(view), chart))
                seq += 1
            for part in split_blocks(render_blocks(view)):
                messages.append(OutMessage(chat, seq, part))
                seq += 1
            # Whatever kind, a committed digest tells the chat these versions (so none is repeated).
            notices.extend(
                Notice(entry.incident.incident_id, chat, incident_version(entry.incident))
                for entry in entries
            )
            if reference is None:
                reference = (html, chart)
        assert reference is not None  # config.chats is never empty
        all_ids = sorted({entry.incident.incident_id for entries in per_chat.values() for entry in entries})
        digest_id: int | None = None
        if commit:
            digest_id = await self.store.outbox.add(
                kind=kind,
                key=key,
                messages=messages,
                notices=notices,
                incident_ids=all_ids,
                period_start=period_start,
                period_end=period_end,
            )
            if digest_id is None:
                return None
            log.info(
                "digest.composed",
                kind=kind,
                key=key,
                digest_id=digest_id,
                incidents=len(all_ids),
                messages=len(messages),
                chats=len(per_chat),
            )
        files = await asyncio.to_thread(self._archive, kind, period_end, reference[0], reference[1])
        return Composed(
            kind, key, digest_id, len(all_ids), tuple(messages), reference[0], reference[1], files
        )

    def _archive(self, kind: str, when: dt.datetime, html: str, chart: bytes | None) -> tuple[Path, ...]:
        """Write the digest as ``<kind>-YYYYmmdd-HHMM.html/.txt/.png`` under ``data_dir``."""
        if self.config.data_dir is None:
            return ()
        folder = self.config.data_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = "digest" if kind in {"periodic", "manual"} else kind
        stem = folder / f"{name}-{when.astimezone(self.config.zone):%Y%m%d-%H%M}"
        written = [stem.with_suffix(".html"), stem.with_suffix(".txt")]
        written[0].write_text(html, encoding="utf-8")
        written[1].write_text(to_plain(html) + "\n", encoding="utf-8")
        if chart is not None:
            written.append(stem.with_suffix(".png"))
            written[2].write_bytes(chart)
        return tuple(written)

    async def alerts(self, incidents: Sequence[Incident] | None = None) -> list[int]:
        """Queue an alert for each incident newly meeting a threshold; returns the digest ids.

        ``incidents`` defaults to those changed since the last alert scan (kept in state).
        """
        now = self.clock()
        today = now.astimezone(self.config.zone).date()
        scanned = utc_now() - SCAN_MARGIN  # store time: incidents are stamped when written
        if incidents is None:
            last = await self.store.state.get("alerts.scanned_until")
            since = dt.datetime.fromisoformat(last) if last else scanned - self.config.initial_lookback
            incidents = await self.store.posts.incidents(changed_since=since)
        queued: list[int] = []
        for incident in incidents:
            already = await self.store.outbox.alerted_reasons(incident.incident_id)
            reasons = new_alert_reasons(incident, self.config.policy, already, today)
            if not reasons:
                continue
            body = render_alert(incident, reasons)
            digest_id = await self.store.outbox.add(
                kind="alert",
                key=alert_key(incident.incident_id, reasons),
                messages=[OutMessage(chat, 0, body) for chat in self.config.chats],
                incident_ids=[incident.incident_id],
                period_end=now,
            )
            if digest_id is not None:
                queued.append(digest_id)
                log.info("alert.queued", incident_id=incident.incident_id, reasons=list(reasons))
        await self.store.state.set("alerts.scanned_until", scanned.isoformat())
        return queued
