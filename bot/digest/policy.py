"""What goes into a digest and what deserves an immediate alert (pure).

An incident's *version* is a short hash of everything a digest shows about it. A chat that
was told version ``v`` of an incident is told again only when the version changed, and then
the incident is marked as an update.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.model import Incident

EntryStatus = Literal["new", "updated", "seen"]
AlertReason = Literal["casualties", "claim", "sources", "governorate"]

#: The order reasons are listed and keyed in.
ALERT_REASONS: tuple[AlertReason, ...] = ("casualties", "claim", "sources", "governorate")


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One incident in a digest: first time for the reader, an update, or already sent as is."""

    incident: Incident
    status: EntryStatus = "new"


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """Thresholds for an immediate alert (settings ``alert_*``)."""

    min_sources: int = 2
    min_casualties: int = 1
    on_claim: bool = True
    governorates: frozenset[str] = frozenset()
    #: Incidents dated more than this many days before today never alert (backfill, replays).
    max_age_days: int = 2

    def __post_init__(self) -> None:
        if self.min_sources < 1:
            raise ValueError(f"min_sources must be >= 1, got {self.min_sources}")
        if self.min_casualties < 0:
            raise ValueError(f"min_casualties must be >= 0, got {self.min_casualties}")


def incident_version(incident: Incident) -> str:
    """A short, stable hash of every detail a digest shows about the incident."""
    shown = {
        "date": incident.date.isoformat(),
        "admin1": incident.admin1,
        "place": incident.place,
        "place_ar": incident.place_ar,
        "attack_type": incident.attack_type,
        "target": incident.target,
        "claimed_by": incident.claimed_by,
        "killed": incident.killed,
        "injured": incident.injured,
        "sources": sorted([s.channel, s.message_id, s.deleted] for s in incident.sources),
    }
    canonical = json.dumps(shown, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def touched_at(incident: Incident) -> dt.datetime:
    """When the incident last changed (its first sighting if never updated)."""
    return incident.updated_at or incident.first_seen


def digest_entries(incidents: Sequence[Incident], told: Mapping[int, str]) -> tuple[DigestEntry, ...]:
    """The entries for one chat: incidents it was never told about, or told an older version of.

    ``told`` maps incident id to the version the chat last received.
    """
    entries: list[DigestEntry] = []
    for incident in incidents:
        previous = told.get(incident.incident_id)
        if previous is None:
            entries.append(DigestEntry(incident, "new"))
        elif previous != incident_version(incident):
            entries.append(DigestEntry(incident, "updated"))
    return tuple(entries)


def summary_entries(incidents: Sequence[Incident], told: Mapping[int, str]) -> tuple[DigestEntry, ...]:
    """Entries for a summary: every incident, marked new, updated, or seen (already sent as is)."""
    entries: list[DigestEntry] = []
    for incident in incidents:
        previous = told.get(incident.incident_id)
        if previous is None:
            entries.append(DigestEntry(incident, "new"))
        else:
            entries.append(
                DigestEntry(incident, "seen" if previous == incident_version(incident) else "updated")
            )
    return tuple(entries)


def casualties(incident: Incident) -> int:
    """Killed plus injured, unknown counted as zero."""
    return (incident.killed or 0) + (incident.injured or 0)


def alert_reasons(incident: Incident, policy: AlertPolicy, today: dt.date) -> tuple[AlertReason, ...]:
    """Every threshold a recent incident meets, in ``ALERT_REASONS`` order (none for old ones)."""
    if (today - incident.date).days > policy.max_age_days:
        return ()
    reasons: list[AlertReason] = []
    if policy.min_casualties > 0 and casualties(incident) >= policy.min_casualties:
        reasons.append("casualties")
    if policy.on_claim and incident.claimed_by:
        reasons.append("claim")
    if incident.corroboration >= policy.min_sources:
        reasons.append("sources")
    if incident.admin1 is not None and incident.admin1 in policy.governorates:
        reasons.append("governorate")
    return tuple(reasons)


def new_alert_reasons(
    incident: Incident, policy: AlertPolicy, already: Collection[str], today: dt.date
) -> tuple[AlertReason, ...]:
    """Reasons met now that the analysts have not been alerted for yet."""
    return tuple(reason for reason in alert_reasons(incident, policy, today) if reason not in already)


def alert_key(incident_id: int, reasons: Sequence[AlertReason]) -> str:
    """The outbox key of an alert: one per incident and set of newly met reasons."""
    return f"alert:{incident_id}:{'+'.join(reasons)}"
