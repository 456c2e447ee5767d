"""Value objects shared by every layer: posts, matches, classifications, events, incidents.

Everything here is frozen and validates itself on construction. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

AttackType = Literal["ied", "rocket", "drone", "gunfire", "arson", "unknown"]
Target = Literal["us_coalition", "iraqi_forces", "other", "unknown"]

ATTACK_TYPES: tuple[str, ...] = ("ied", "rocket", "drone", "gunfire", "arson", "unknown")
TARGETS: tuple[str, ...] = ("us_coalition", "iraqi_forces", "other", "unknown")

#: Iraq time, in which a post's "own date" is read (GUIDELINES.md: UTC+3, no DST).
IRAQ_TZ = dt.timezone(dt.timedelta(hours=3), "AST")


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def post_link(channel: str, message_id: int) -> str:
    """A t.me link to a post; channels without a username get the ``/c/<id>/`` form."""
    if channel.isdigit():
        return f"https://t.me/c/{channel}/{message_id}"
    return f"https://t.me/{channel}/{message_id}"


@dataclass(frozen=True, slots=True)
class ForwardOrigin:
    """Where a forwarded post came from: the original channel and its message id."""

    channel: str
    message_id: int


@dataclass(frozen=True, slots=True)
class Post:
    """One channel post as any source delivers it (live, export, JSONL).

    ``channel`` is the channel key: its public username, lower-cased, without ``@`` when
    it has one, else its bare numeric channel id as a string (``1234567890``, not
    ``-1001234567890``). ``date`` is when it was posted (aware, UTC or any zone).
    """

    channel: str
    message_id: int
    date: dt.datetime
    text: str
    edit_date: dt.datetime | None = None
    forward: ForwardOrigin | None = None
    grouped_id: int | None = None
    has_media: bool = False
    lang: str | None = None
    #: The record id in a labelled corpus (JSONL ``id``); None for live posts.
    corpus_id: str | None = None
    channel_title: str | None = None

    def __post_init__(self) -> None:
        if not self.channel:
            raise ValueError("post channel must not be empty")
        if not 0 <= self.message_id < 2**63:
            raise ValueError(f"message_id must be in 0..2^63-1, got {self.message_id}")
        _require_aware(self.date, "date")
        if self.edit_date is not None:
            _require_aware(self.edit_date, "edit_date")

    @property
    def local_date(self) -> dt.date:
        """The post's own date in Iraq time (UTC+3)."""
        return self.date.astimezone(IRAQ_TZ).date()

    @property
    def link(self) -> str:
        """A t.me link to the post (``/c/<id>/`` form for channels without a username)."""
        return post_link(self.channel, self.message_id)


@dataclass(frozen=True, slots=True, init=False)
class TermMatch:
    """One matched term: which concept, the term as written in the rules, and where.

    ``start``/``end`` are offsets into the post's *original* text.
    """

    concept: str
    term: str
    start: int
    end: int
    text: str

    def __init__(self, concept: str, term: str, start: int, end: int, text: str) -> None:
        if not 0 <= start <= end:
            raise ValueError(f"bad span {start}..{end}")
        # the rule engine makes thousands a second: the slots are set through their
        # descriptors, at half the cost of the frozen dataclass's object.__setattr__ per field
        set_concept, set_term, set_start, set_end, set_text = _TERM_MATCH_SLOTS
        set_concept(self, concept)
        set_term(self, term)
        set_start(self, start)
        set_end(self, end)
        set_text(self, text)


@dataclass(frozen=True, slots=True, init=False)
class RuleHit:
    """A rule that fired, with its category, weight and the matches that made it fire."""

    rule: str
    category: str
    weight: float
    value: str | None
    matches: tuple[TermMatch, ...] = ()

    def __init__(
        self, rule: str, category: str, weight: float, value: str | None, matches: tuple[TermMatch, ...] = ()
    ) -> None:
        set_rule, set_category, set_weight, set_value, set_matches = _RULE_HIT_SLOTS  # as TermMatch
        set_rule(self, rule)
        set_category(self, category)
        set_weight(self, weight)
        set_value(self, value)
        set_matches(self, matches)


def _slot_setters(cls: type) -> tuple[Any, ...]:
    """The ``__set__`` of each field's slot descriptor, in field order."""
    return tuple(getattr(cls, field.name).__set__ for field in fields(cls))


_TERM_MATCH_SLOTS = _slot_setters(TermMatch)
_RULE_HIT_SLOTS = _slot_setters(RuleHit)


@dataclass(frozen=True, slots=True)
class Classification:
    """The rule engine's verdict on one text.

    ``labels`` holds the winning value for each output category other than relevance,
    e.g. ``{"attack_type": "ied", "target": "us_coalition"}``.
    """

    relevant: bool
    score: float
    hits: tuple[RuleHit, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(hit.rule for hit in self.hits)


class _NoLabels(dict[str, str]):
    """An empty labels mapping that refuses to change; it copies, pickles and serialises as a dict."""

    __slots__ = ()

    def _refuse(self, *_args: object, **_kwargs: object) -> None:
        raise TypeError("the shared NOT_RELEVANT verdict's labels are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse  # type: ignore[assignment]


#: The verdict on a post no relevance rule fires on: one shared instance (the common case by
#: far; equal to a fresh ``Classification(relevant=False, score=0.0)``).
NOT_RELEVANT = Classification(relevant=False, score=0.0, labels=_NoLabels())


@dataclass(frozen=True, slots=True)
class Event:
    """One convoy attacked at one place at one time, as one post reports it."""

    date: dt.date
    country: str | None
    admin1: str | None
    place: str | None
    attack_type: str
    target: str
    claimed_by: str | None = None
    killed: int | None = None
    injured: int | None = None
    lat: float | None = None
    lon: float | None = None
    #: Arabic name of the place, when known (shown beside the English one).
    place_ar: str | None = None

    def __post_init__(self) -> None:
        if self.attack_type not in ATTACK_TYPES:
            raise ValueError(f"unknown attack_type {self.attack_type!r}")
        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r}")
        for name in ("killed", "injured"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.admin1 is not None and self.country is not None and not self.admin1.startswith(self.country):
            raise ValueError(f"admin1 {self.admin1!r} is not in country {self.country!r}")

    def to_json(self) -> dict[str, Any]:
        """The GUIDELINES.md event object."""
        return {
            "date": self.date.isoformat(),
            "country": self.country,
            "admin1": self.admin1,
            "place": self.place,
            "attack_type": self.attack_type,
            "target": self.target,
            "claimed_by": self.claimed_by,
            "killed": self.killed,
            "injured": self.injured,
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the pure pipeline makes of one post: the verdict and the events."""

    classification: Classification
    events: tuple[Event, ...] = ()

    @property
    def relevant(self) -> bool:
        return self.classification.relevant


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A stored event with the facts about its post that incident grouping needs."""

    event_id: int
    event: Event
    channel: str
    message_id: int
    posted_at: dt.datetime
    forward: ForwardOrigin | None = None
    incident_id: int | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """One post that reports an incident."""

    channel: str
    message_id: int
    posted_at: dt.datetime
    link: str
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Incident:
    """One real attack, grouped from the events of every post that reports it."""

    incident_id: int
    date: dt.date
    country: str | None
    admin1: str | None
    place: str | None
    attack_type: str
    target: str
    claimed_by: str | None
    killed: int | None
    injured: int | None
    lat: float | None
    lon: float | None
    first_seen: dt.datetime
    sources: tuple[Source, ...]
    place_ar: str | None = None
    updated_at: dt.datetime | None = None

    @classmethod
    def from_event(
        cls,
        incident_id: int,
        details: Event,
        *,
        first_seen: dt.datetime,
        sources: tuple[Source, ...],
        updated_at: dt.datetime | None = None,
    ) -> Incident:
        """An incident whose best-known details are ``details``."""
        return cls(
            incident_id=incident_id,
            date=details.date,
            country=details.country,
            admin1=details.admin1,
            place=details.place,
            attack_type=details.attack_type,
            target=details.target,
            claimed_by=details.claimed_by,
            killed=details.killed,
            injured=details.injured,
            lat=details.lat,
            lon=details.lon,
            first_seen=first_seen,
            sources=sources,
            place_ar=details.place_ar,
            updated_at=updated_at,
        )

    @property
    def corroboration(self) -> int:
        """How many distinct channels report it (deleted posts still count: they were seen)."""
        return len({source.channel for source in self.sources})
