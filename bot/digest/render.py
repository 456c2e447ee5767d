"""Digests and alerts as Telegram HTML, split into messages Telegram accepts (pure).

Every piece of text that came from a channel (places, claimants, channel names) goes
through ``_text``: bidi controls and line breaks removed, length capped, HTML-escaped, and
wrapped in Unicode isolates when it holds right-to-left script so Arabic shows correctly
beside English. A digest is a sequence of *blocks* (the header, then one block per incident
with its day and governorate headings in front when it opens a group); ``split_blocks``
packs whole blocks into messages, so a message never ends inside an incident or a tag.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.digest.governorates import GOVERNORATES, governorate_name
from bot.digest.policy import AlertReason, DigestEntry, casualties
from bot.model import Incident

#: Telegram's limit for one text message, in UTF-16 code units after entity parsing.
TELEGRAM_LIMIT = 4096
#: Telegram's limit for a media caption.
CAPTION_LIMIT = 1024
#: Longest channel-derived field shown, in characters before escaping.
FIELD_CAP = 60
#: One incident block stays under this, so it always fits one message with room to spare.
BLOCK_BUDGET = 3700

FSI = "\u2068"  # FIRST STRONG ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE

_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_SAFE_LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]{1,64}(?:/[0-9]{1,20}){1,2}")
_ANCHOR = re.compile(r'<a href="([^"<>]*)">([^<]*)</a>')
_TAG = re.compile(r"</?[a-z]+(?: [^<>]*)?>")

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

ATTACK_LABELS = {
    "ied": "IED",
    "rocket": "Rocket",
    "drone": "Drone",
    "gunfire": "Gunfire",
    "arson": "Arson",
    "unknown": "Attack (type unknown)",
}
TARGET_LABELS = {
    "us_coalition": "US-led coalition convoy",
    "iraqi_forces": "Iraqi forces convoy",
    "other": "other convoy",
    "unknown": "convoy (owner unknown)",
}


@dataclass(frozen=True, slots=True)
class DigestView:
    """Everything one rendered digest shows: title, period, entries, the zone times are shown in."""

    title: str
    period_start: dt.datetime | None
    period_end: dt.datetime
    zone: dt.tzinfo
    entries: tuple[DigestEntry, ...]
    empty_text: str = "No new incidents."

    def __post_init__(self) -> None:
        for name in ("period_start", "period_end"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def clean(value: str, cap: int = FIELD_CAP) -> str:
    """Channel text made safe to lay out: no bidi controls or line breaks, at most ``cap`` chars."""
    text = _CONTROL_OR_SPACE.sub(" ", _BIDI_CONTROLS.sub("", value)).strip()
    if len(text) > cap:
        text = text[: cap - 1].rstrip() + "…"
    return text


def isolate(text: str) -> str:
    """Wrap text holding right-to-left script in Unicode isolates so it cannot reorder its line."""
    return f"{FSI}{text}{PDI}" if _RTL.search(text) else text


def _text(value: str, cap: int = FIELD_CAP) -> str:
    return isolate(html.escape(clean(value, cap), quote=True))


def _day(day: dt.date) -> str:
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def _moment(value: dt.datetime, zone: dt.tzinfo) -> str:
    local = value.astimezone(zone)
    return f"{local.day} {_MONTHS[local.month - 1]} {local:%H:%M}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _governorate_heading(code: str | None) -> str:
    row = GOVERNORATES.get(code) if code else None
    if row is None:
        return f"📍 <b>{_text(governorate_name(code))}</b>"
    return f"📍 <b>{html.escape(row.name)}</b> {isolate(row.name_ar)}"


def _governorate_label(code: str | None) -> str:
    return _text(governorate_name(code))


def _place(incident: Incident) -> str:
    arabic = f" {_text(incident.place_ar)}" if incident.place_ar else ""
    if incident.place:
        return f"<b>{_text(incident.place)}</b>{arabic}"
    if incident.place_ar:
        return f"<b>{_text(incident.place_ar)}</b>"
    return f"<b>{_governorate_label(incident.admin1)}</b> (place not reported)"


def _casualties(incident: Incident) -> str:
    if incident.killed is None and incident.injured is None:
        return "casualties not reported"
    parts = []
    if incident.killed is not None:
        parts.append(f"{incident.killed} killed")
    if incident.injured is not None:
        parts.append(f"{incident.injured} injured")
    return ", ".join(parts)


def _source_link(channel: str, message_id: int, link: str, deleted: bool) -> str:
    if _SAFE_LINK.fullmatch(link):
        shown = f'<a href="{link}">{link.removeprefix("https://")}</a>'
    else:
        shown = f"{_text(channel, 32)}/{message_id}"
    return f"{shown} (deleted)" if deleted else shown


def incident_lines(incident: Incident, *, update: bool = False, budget: int = BLOCK_BUDGET) -> list[str]:
    """The lines that describe one incident; source links stop before ``budget`` is reached."""
    marker = "• 🔄 <i>update</i> · " if update else "• "
    attack = ATTACK_LABELS.get(incident.attack_type) or _text(incident.attack_type)
    target = TARGET_LABELS.get(incident.target) or _text(incident.target)
    claim = f"claimed by <b>{_text(incident.claimed_by)}</b>" if incident.claimed_by else "no claim"
    sources = sorted(incident.sources, key=lambda s: (s.posted_at, s.channel, s.message_id))
    count = f"{_plural(incident.corroboration, 'channel')}, {_plural(len(sources), 'post')}"
    lines = [
        f"{marker}{_place(incident)}",
        f"   {attack} · {target}",
        f"   {_casualties(incident)} · {claim}",
    ]
    used = sum(telegram_length(line) + 1 for line in lines) + telegram_length(count) + 40
    links: list[str] = []
    for index, source in enumerate(sources):
        link = _source_link(source.channel, source.message_id, source.link, source.deleted)
        more = f" … and {len(sources) - index} more"
        if used + telegram_length(link) + 3 + telegram_length(more) > budget:
            links.append(more.strip())
            break
        links.append(link)
        used += telegram_length(link) + 3
    lines.append(f"   {count}: {' · '.join(links)}" if links else f"   {count}")
    return lines


def _header(view: DigestView) -> str:
    zone_name = str(view.zone)
    start = _moment(view.period_start, view.zone) if view.period_start else "the start"
    lines = [
        f"<b>{html.escape(view.title)}</b>",
        f"{start} – {_moment(view.period_end, view.zone)} ({html.escape(zone_name)})",
    ]
    entries = view.entries
    if not entries:
        lines.append(html.escape(view.empty_text))
        return "\n".join(lines)
    new = sum(1 for entry in entries if entry.status == "new")
    updated = sum(1 for entry in entries if entry.status == "updated")
    seen = len(entries) - new - updated
    killed = sum(entry.incident.killed or 0 for entry in entries)
    injured = sum(entry.incident.injured or 0 for entry in entries)
    claimed = sum(1 for entry in entries if entry.incident.claimed_by)
    already = f", {seen} already sent" if seen else ""
    summary = f"<b>{_plural(len(entries), 'incident')}</b> ({new} new, {updated} updated{already})"
    lines.append(f"{summary} · {killed} killed · {injured} injured · {claimed} claimed")
    by_governorate = Counter(entry.incident.admin1 for entry in entries)
    ranked = sorted(by_governorate.items(), key=lambda item: (-item[1], governorate_name(item[0])))
    shown: list[str] = []
    room = BLOCK_BUDGET // 2
    for index, (code, count) in enumerate(ranked):
        item = f"{_governorate_label(code)} {count}"
        room -= telegram_length(item) + 3
        if room < 40:
            shown.append(f"… {len(ranked) - index} more")
            break
        shown.append(item)
    lines.append(" · ".join(shown))
    return "\n".join(lines)


def _ordered(entries: Sequence[DigestEntry]) -> list[DigestEntry]:
    """Newest day first; within a day, governorates by count then name; incidents by first sighting."""
    per_day_governorate = Counter((e.incident.date, e.incident.admin1) for e in entries)
    return sorted(
        entries,
        key=lambda e: (
            -e.incident.date.toordinal(),
            -per_day_governorate[(e.incident.date, e.incident.admin1)],
            governorate_name(e.incident.admin1),
            e.incident.admin1 or "",
            e.incident.first_seen,
            e.incident.incident_id,
        ),
    )


def render_blocks(view: DigestView) -> tuple[str, ...]:
    """The digest as blocks: the header, then one per incident (group headings in front).

    Every block but the last ends with the blank line that separates it from the next, so
    ``"".join(blocks)`` is the whole digest.
    """
    blocks = [_header(view)]
    day: dt.date | None = None
    governorate: tuple[dt.date, str | None] | None = None
    for entry in _ordered(view.entries):
        incident = entry.incident
        headings: list[str] = []
        if incident.date != day:
            day = incident.date
            headings.append(f"📅 <b>{_day(day)}</b>")
        if (incident.date, incident.admin1) != governorate:
            governorate = (incident.date, incident.admin1)
            headings.append(_governorate_heading(incident.admin1))
        room = BLOCK_BUDGET - sum(telegram_length(heading) + 1 for heading in headings)
        lines = incident_lines(incident, update=entry.status == "updated", budget=room)
        blocks.append("\n".join([*headings, *lines]))
    return (*(f"{block}\n\n" for block in blocks[:-1]), blocks[-1])


def split_blocks(blocks: Sequence[str], limit: int = TELEGRAM_LIMIT) -> tuple[str, ...]:
    """Pack whole blocks into messages of at most ``limit`` (UTF-16 units).

    A block longer than ``limit`` (never produced by ``render_blocks``) is packed line by
    line instead; a single line longer than ``limit`` is an error.
    """
    units: list[str] = []
    for block in blocks:
        if telegram_length(block) <= limit:
            units.append(block)
            continue
        for line in block.splitlines(keepends=True):
            if telegram_length(line) > limit:
                raise ValueError(f"a line of {telegram_length(line)} units does not fit in {limit}")
            units.append(line)
    parts: list[str] = []
    current = ""
    for unit in units:
        if current and telegram_length(current) + telegram_length(unit) > limit:
            parts.append(current)
            current = ""
        current += unit
    if current:
        parts.append(current)
    return tuple(parts)


def render_digest(view: DigestView, limit: int = TELEGRAM_LIMIT) -> tuple[str, ...]:
    """The digest as Telegram HTML messages, each within ``limit``."""
    return split_blocks(render_blocks(view), limit)


def render_caption(view: DigestView) -> str:
    """A short caption for the digest's chart (no channel text, well under the caption limit)."""
    count = len(view.entries)
    start = _moment(view.period_start, view.zone) if view.period_start else "the start"
    return (
        f"<b>{html.escape(view.title)}</b>: {_plural(count, 'incident')}, "
        f"{start} – {_moment(view.period_end, view.zone)}"
    )


_REASON_TEXT: dict[str, str] = {
    "casualties": "casualties",
    "claim": "claimed",
    "sources": "corroborated",
    "governorate": "watched governorate",
}


def render_alert(incident: Incident, reasons: Sequence[AlertReason]) -> str:
    """An immediate alert for one incident: why, then the incident as a digest shows it."""
    why: list[str] = []
    for reason in reasons:
        if reason == "casualties":
            why.append(f"{casualties(incident)} casualties")
        elif reason == "claim" and incident.claimed_by:
            why.append(f"claimed by {_text(incident.claimed_by)}")
        elif reason == "sources":
            why.append(f"reported by {_plural(incident.corroboration, 'channel')}")
        elif reason == "governorate":
            why.append(f"in {_governorate_label(incident.admin1)}")
        else:
            why.append(_REASON_TEXT.get(reason, "threshold met"))
    heading = f"⚠️ <b>Convoy attack</b> · {_day(incident.date)} · {_governorate_label(incident.admin1)}"
    reason_line = f"<i>{'; '.join(why)}</i>"
    room = TELEGRAM_LIMIT - 100 - telegram_length(heading) - telegram_length(reason_line)
    return "\n".join([heading, reason_line, *incident_lines(incident, budget=room)])


def to_plain(text: str) -> str:
    """Telegram HTML as plain text: links as their address, tags removed, entities unescaped."""

    def anchor(match: re.Match[str]) -> str:
        url, label = match[1], match[2]
        return url if label in url else f"{label} ({url})"

    return html.unescape(_TAG.sub("", _ANCHOR.sub(anchor, text)))
