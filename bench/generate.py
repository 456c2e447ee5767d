"""Deterministic generator of realistic channel traffic for benchmarks and crash tests.

``N`` posts in ``M`` channels, mixed Arabic and English, mostly unrelated news with a
share of convoy-attack reports (several channels reporting the same attack, some as
forwards of the same original), near misses (aid convoys, foiled IEDs, attacks on bases),
edits and service messages. Everything follows from the seed: the same arguments give
byte-identical files. Output is streamed; memory does not grow with ``N``.

    python -m bench.generate --posts 100000 --channels 100 --jsonl out.jsonl --export out.json

JSONL (corpus format, channels interleaved in time order): an edited post appears twice,
first as posted, then again later with its new text and ``edit_date``. Desktop export
(full-account format, ``chats.list``, one chat after another): each message once, with
its final text and ``edited_unixtime``, as Telegram Desktop writes it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import json
import random
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

START = dt.datetime(2023, 11, 1, 4, 0, tzinfo=dt.UTC)

# (English, Arabic, kind) places from the gazetteer's Iraqi towns.
PLACES: tuple[tuple[str, str], ...] = (
    ("Abu Ghraib", "أبو غريب"),
    ("Mahmudiyah", "المحمودية"),
    ("Tarmiyah", "الطارمية"),
    ("Hillah", "الحلة"),
    ("Iskandariyah", "الإسكندرية"),
    ("Musayyib", "المسيب"),
    ("Diwaniyah", "الديوانية"),
    ("Afak", "عفك"),
    ("Samawah", "السماوة"),
    ("Rumaythah", "الرميثة"),
    ("Nasiriyah", "الناصرية"),
    ("Shatrah", "الشطرة"),
    ("Basra", "البصرة"),
    ("Zubayr", "الزبير"),
    ("Safwan", "صفوان"),
    ("Umm Qasr", "أم قصر"),
    ("Najaf", "النجف"),
    ("Kufa", "الكوفة"),
    ("Karbala", "كربلاء"),
    ("Kut", "الكوت"),
)

WEAPONS_EN = (
    "an IED",
    "a roadside bomb",
    "an improvised explosive device",
    "two IEDs",
    "an explosive device",
)
WEAPONS_AR = ("بعبوة ناسفة", "بعبوتين ناسفتين", "بعبوة محلية الصنع", "بعبوة ناسفة مزروعة على جانب الطريق")
CONVOYS_EN = (
    "a logistics convoy of the US-led coalition",
    "a supply convoy carrying equipment for US forces",
    "a convoy of trucks transporting coalition supplies",
    "an American logistic support convoy",
)
CONVOYS_AR = (
    "رتل دعم لوجستي تابع لقوات الاحتلال الأمريكي",
    "رتلاً لوجستياً للتحالف الدولي",
    "رتل شاحنات ينقل معدات للقوات الأمريكية",
    "رتل امدادات تابع للتحالف الدولي",
)
CLAIMANTS = (
    ("Ashab al-Kahf", "أصحاب الكهف"),
    ("Islamic Resistance in Iraq", "المقاومة الإسلامية في العراق"),
    ("Saraya Awliya al-Dam", "سرايا أولياء الدم"),
    ("Qasim al-Jabbarin", "سرية قاسم الجبارين"),
)
NEAR_MISS_EN = (
    "An aid convoy of the Red Crescent arrived in {place} this morning carrying food for displaced families.",
    "Security forces defused an IED planted on the road near {place} before any convoy passed.",
    "Rockets struck near a base hosting coalition advisers near {place}; no convoy was involved.",
    "Analysis: IED attacks on supply convoys rose sharply in 2021, according to a new study.",
    "A wedding convoy blocked traffic in {place} for two hours on Friday.",
    "The coalition denied reports of an attack on its convoy near {place}.",
)
NEAR_MISS_AR = (
    "وصلت قافلة مساعدات إنسانية إلى {place} اليوم محملة بالمواد الغذائية للعوائل النازحة.",
    "القوات الأمنية تفكك عبوة ناسفة مزروعة على طريق الأرتال قرب {place} قبل انفجارها.",
    "سقوط صواريخ قرب قاعدة عسكرية في {place} دون وقوع إصابات.",
    "موكب زفاف يقطع الطريق في {place} لساعتين.",
    "مصدر أمني ينفي تعرض أي رتل للاستهداف في {place}.",
)
NEWS_EN = (
    "The central bank kept its policy rate unchanged on {day}.",
    "Temperatures in {place} are expected to reach 46 degrees this week.",
    "Parliament postponed the vote on the budget law again.",
    "Football: Al-Zawraa beat Al-Shorta 2-1 in a tense derby.",
    "Oil exports averaged 3.3 million barrels per day last month, the ministry said.",
    "Protesters gathered in {place} demanding better electricity supply.",
    "The ministry of health announced a new vaccination campaign in {place}.",
    "Prices of vegetables rose in the markets of {place} after the floods.",
    "Join our channel for the latest news 👇 https://t.me/joinchat/AAAA",
    "Watch the full interview on our website.",
)
NEWS_AR = (
    "البنك المركزي يبقي سعر الفائدة دون تغيير.",
    "ارتفاع درجات الحرارة في {place} إلى 48 درجة مئوية خلال الأيام المقبلة.",
    "مجلس النواب يؤجل التصويت على قانون الموازنة مجدداً.",
    "الزوراء يفوز على الشرطة بهدفين مقابل هدف في ديربي العاصمة.",
    "وزارة النفط: معدل الصادرات بلغ 3.3 مليون برميل يومياً خلال الشهر الماضي.",
    "تظاهرات في {place} للمطالبة بتحسين واقع الكهرباء.",
    "وزارة الصحة تطلق حملة تلقيح جديدة في {place}.",
    "ارتفاع أسعار الخضار في أسواق {place} بعد موجة الأمطار.",
    "تابعونا على قناتنا 👇 https://t.me/joinchat/AAAA",
    "🔴 عاجل | مؤتمر صحفي لرئيس الوزراء بعد قليل",
)
FILLER_EN = (
    "More details to follow.",
    "Sources said the situation is calm now.",
    "Local residents described hearing a loud noise.",
    "#Iraq #news",
    "Traffic was diverted for several hours.",
)
FILLER_AR = (
    "التفاصيل لاحقاً.",
    "وأفاد مصدر محلي بأن الوضع هادئ حالياً.",
    "#العراق #عاجل",
    "وتم قطع الطريق لعدة ساعات.",
    "المزيد من التفاصيل قريباً 🔻",
)


@dataclass(frozen=True, slots=True)
class Spec:
    """What to generate. ``posts_per_day`` sets the time span (traffic density stays the same)."""

    posts: int
    channels: int
    seed: int = 1
    posts_per_day: int = 3000
    relevant_share: float = 0.015
    near_miss_share: float = 0.02
    forward_share: float = 0.25
    edit_share: float = 0.01
    service_share: float = 0.005

    def channel_posts(self, index: int) -> int:
        """How many posts channel ``index`` carries (the first channels take the remainder)."""
        base, extra = divmod(self.posts, self.channels)
        return base + (1 if index < extra else 0)

    @property
    def days(self) -> float:
        return max(self.posts / self.posts_per_day, 1.0)


@dataclass(frozen=True, slots=True)
class Attack:
    """One real attack on one day that several channels may report."""

    number: int
    day: int
    place: tuple[str, str]
    weapon: int
    claimant: tuple[str, str] | None
    killed: int | None
    injured: int | None


@dataclass(frozen=True, slots=True)
class Channel:
    index: int
    key: str
    peer_id: int
    title: str
    lang: str  # "ar", "en" or "mixed"


@dataclass(frozen=True, slots=True)
class GenPost:
    """One generated message, with its final text and, when edited, the text first posted."""

    channel: Channel
    message_id: int
    date: dt.datetime
    text: str
    lang: str
    first_text: str | None = None
    edit_date: dt.datetime | None = None
    forward: tuple[str, int] | None = None
    service: bool = False
    bold_prefix: str | None = None


def channel(spec: Spec, index: int) -> Channel:
    """Channel ``index``: about 60% Arabic, 25% English, the rest mixed."""
    rng = random.Random(f"{spec.seed}:channel:{index}")
    roll = rng.random()
    lang = "ar" if roll < 0.6 else "en" if roll < 0.85 else "mixed"
    return Channel(index, f"bench_ch{index:03d}", 1_500_000_000 + index, f"Bench channel {index:03d}", lang)


def attacks_on(spec: Spec, day: int) -> tuple[Attack, ...]:
    """The attacks of one day (0-4, a pure function of seed and day)."""
    rng = random.Random(f"{spec.seed}:day:{day}")
    count = rng.choice((0, 1, 1, 2, 2, 3, 4))
    found: list[Attack] = []
    for k in range(count):
        casualties = rng.random()
        found.append(
            Attack(
                number=day * 10 + k,
                day=day,
                place=rng.choice(PLACES),
                weapon=rng.randrange(100),
                claimant=rng.choice(CLAIMANTS) if rng.random() < 0.4 else None,
                killed=rng.randrange(1, 6) if casualties < 0.2 else (0 if casualties < 0.5 else None),
                injured=rng.randrange(1, 9) if casualties < 0.3 else None,
            )
        )
    return tuple(found)


def _report_en(rng: random.Random, attack: Attack, date: dt.datetime) -> str:
    place = attack.place[0]
    weapon = WEAPONS_EN[attack.weapon % len(WEAPONS_EN)]
    convoy = CONVOYS_EN[rng.randrange(len(CONVOYS_EN))]
    lead = rng.choice(("Breaking:", "🔴 URGENT:", "Update:", ""))
    when = rng.choice(("this morning", "today", f"on {date.strftime('%d %B')}", "earlier today"))
    parts = [f"{lead} {weapon.capitalize()} struck {convoy} near {place} {when}.".strip()]
    if attack.killed == 0:
        parts.append("No casualties were reported.")
    elif attack.killed:
        parts.append(
            f"{attack.killed} people were killed"
            + (f" and {attack.injured} injured." if attack.injured else ".")
        )
    elif attack.injured:
        parts.append(f"{attack.injured} drivers were injured.")
    if attack.claimant:
        parts.append(f"The {attack.claimant[0]} group claimed responsibility.")
    parts.extend(rng.sample(FILLER_EN, rng.randrange(0, 3)))
    return " ".join(parts)


def _report_ar(rng: random.Random, attack: Attack) -> str:
    place = attack.place[1]
    weapon = WEAPONS_AR[attack.weapon % len(WEAPONS_AR)]
    convoy = CONVOYS_AR[rng.randrange(len(CONVOYS_AR))]
    lead = rng.choice(("🔴 عاجل |", "عاجل:", "متابعة |", ""))
    when = rng.choice(("صباح اليوم", "اليوم", "مساء اليوم", "قبل قليل"))
    parts = [f"{lead} استهداف {convoy} {weapon} قرب {place} {when}.".strip()]
    if attack.killed == 0:
        parts.append("ولم تسجل أي خسائر بشرية.")
    elif attack.killed:
        parts.append(
            f"وأسفر الهجوم عن مقتل {attack.killed} أشخاص"
            + (f" وإصابة {attack.injured} آخرين." if attack.injured else ".")
        )
    elif attack.injured:
        parts.append(f"وأسفر عن إصابة {attack.injured} من السائقين.")
    if attack.claimant:
        parts.append(f"وتبنت {attack.claimant[1]} العملية.")
    parts.extend(rng.sample(FILLER_AR, rng.randrange(0, 3)))
    return " ".join(parts)


def _other(
    rng: random.Random, lang: str, date: dt.datetime, pool_en: tuple[str, ...], pool_ar: tuple[str, ...]
) -> str:
    place = rng.choice(PLACES)
    pool = pool_ar if lang == "ar" else pool_en
    first = rng.choice(pool).format(place=place[1] if lang == "ar" else place[0], day=date.strftime("%d %B"))
    fillers = FILLER_AR if lang == "ar" else FILLER_EN
    extra = rng.sample(fillers, rng.randrange(0, 3))
    if rng.random() < 0.05:  # a long post: an article pasted whole
        extra += [
            rng.choice(pool).format(place=place[1] if lang == "ar" else place[0], day="") for _ in range(30)
        ]
    if rng.random() < 0.03:
        extra.append(rng.choice(("🔥🔥🔥", "⬇️⬇️", "📌", "\u200f\u200f")))
    return " ".join([first, *extra])


def channel_stream(spec: Spec, index: int) -> Iterator[GenPost]:
    """Every message of one channel in posting order (dates strictly increasing)."""
    chan = channel(spec, index)
    rng = random.Random(f"{spec.seed}:posts:{index}")
    total = spec.channel_posts(index)
    if total == 0:
        return
    span = spec.days * 86_400.0
    step = span / total
    message_id = rng.randrange(100, 5000)
    offset = rng.random() * step
    for n in range(total):
        message_id += 1 if rng.random() < 0.97 else rng.randrange(2, 6)  # gaps: deleted/unexported messages
        seconds = offset + n * step + rng.random() * step * 0.5
        date = (START + dt.timedelta(seconds=int(seconds))).replace(microsecond=0)
        lang = chan.lang if chan.lang != "mixed" else rng.choice(("ar", "en"))
        if rng.random() < spec.service_share:
            yield GenPost(chan, message_id, date, "", lang, service=True)
            continue
        roll = rng.random()
        forward: tuple[str, int] | None = None
        bold: str | None = None
        text: str | None = None
        if roll < spec.relevant_share:
            day = int((date - START).total_seconds() // 86_400)
            todays = attacks_on(spec, day) or attacks_on(spec, max(day - 1, 0))
            if todays:
                attack = rng.choice(todays)
                text = _report_ar(rng, attack) if lang == "ar" else _report_en(rng, attack, date)
                if rng.random() < spec.forward_share:
                    forward = (f"bench_origin_{lang}", 100_000 + attack.number)
                if rng.random() < 0.3:
                    bold = "متابعة:" if lang == "ar" else "Follow-up:"
        if text is None:
            if roll < spec.relevant_share + spec.near_miss_share:
                text = _other(rng, lang, date, NEAR_MISS_EN, NEAR_MISS_AR)
            else:
                text = _other(rng, lang, date, NEWS_EN, NEWS_AR)
            if rng.random() < 0.02:
                forward = (f"bench_news_{rng.randrange(20)}", rng.randrange(1, 90_000))
        first_text = None
        edit_date = None
        if rng.random() < spec.edit_share:
            first_text = text
            text = text + (" (تصحيح)" if lang == "ar" else " (corrected)")
            edit_date = date + dt.timedelta(minutes=rng.randrange(1, 240))
        yield GenPost(chan, message_id, date, text, lang, first_text, edit_date, forward, bold_prefix=bold)


# ---------------------------------------------------------------------------------- JSONL
def _jsonl_record(post: GenPost, *, edited: bool) -> dict[str, Any]:
    text = post.text if edited or post.first_text is None else post.first_text
    if post.bold_prefix:
        text = f"{post.bold_prefix} {text}"
    record: dict[str, Any] = {
        "id": f"{post.channel.key}/{post.message_id}",
        "channel": post.channel.key,
        "message_id": post.message_id,
        "date": post.date.isoformat(),
        "lang": post.lang,
        "text": text,
    }
    if edited and post.edit_date is not None:
        record["edit_date"] = post.edit_date.isoformat()
    if post.forward is not None:
        record["forward"] = {"channel": post.forward[0], "message_id": post.forward[1]}
    return record


def jsonl_records(spec: Spec) -> Iterator[dict[str, Any]]:
    """Every record in time order across channels; an edit is re-emitted once its edit time
    has passed. Memory: one pending message per channel plus the edits not yet due (at most
    four hours of them)."""
    merged = heapq.merge(
        *(
            ((post.date, post.channel.index, post.message_id, post) for post in channel_stream(spec, i))
            for i in range(spec.channels)
        ),
        key=lambda item: item[:3],
    )
    heap: list[tuple[dt.datetime, int, int, GenPost]] = []
    for date, _index, _mid, post in merged:
        while heap and heap[0][0] <= date:
            yield _jsonl_record(heapq.heappop(heap)[3], edited=True)
        if post.service:
            continue
        yield _jsonl_record(post, edited=False)
        if post.first_text is not None and post.edit_date is not None:
            heapq.heappush(heap, (post.edit_date, post.channel.index, post.message_id, post))
    while heap:
        yield _jsonl_record(heapq.heappop(heap)[3], edited=True)


def write_jsonl(spec: Spec, out: IO[str]) -> int:
    """Write the JSONL corpus; returns the number of lines."""
    lines = 0
    for record in jsonl_records(spec):
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        lines += 1
    return lines


# ---------------------------------------------------------------------------------- export
def _unix(value: dt.datetime) -> str:
    return str(int(value.timestamp()))


def _export_message(post: GenPost) -> dict[str, Any]:
    local = post.date.astimezone(dt.timezone(dt.timedelta(hours=3))).replace(tzinfo=None)
    message: dict[str, Any] = {
        "id": post.message_id,
        "type": "service" if post.service else "message",
        "date": local.isoformat(),
        "date_unixtime": _unix(post.date),
    }
    if post.service:
        message.update(
            actor=post.channel.title, action="pin_message", message_id=post.message_id - 1, text=""
        )
        message["text_entities"] = []
        return message
    if post.edit_date is not None:
        message["edited"] = (
            post.edit_date.astimezone(dt.timezone(dt.timedelta(hours=3))).replace(tzinfo=None).isoformat()
        )
        message["edited_unixtime"] = _unix(post.edit_date)
    message["from"] = post.channel.title
    message["from_id"] = f"channel{post.channel.peer_id}"
    if post.forward is not None:
        message["forwarded_from"] = post.forward[0]
        message["forwarded_from_id"] = (
            f"channel{zlib.crc32(post.forward[0].encode()) % 1_000_000_000 + 1_000_000_000}"
        )
        message["forwarded_message_id"] = post.forward[1]
    if post.bold_prefix:
        entities: list[dict[str, str]] = [
            {"type": "bold", "text": post.bold_prefix},
            {"type": "plain", "text": " " + post.text},
        ]
        message["text"] = [entities[0], entities[1]["text"]]
    else:
        entities = [{"type": "plain", "text": post.text}]
        message["text"] = post.text
    message["text_entities"] = entities
    return message


def write_export(spec: Spec, out: IO[str]) -> int:
    """Write a full-account Telegram Desktop export (``chats.list``); returns messages written."""
    written = 0
    out.write(
        '{\n "about": "Here is the data you requested.",\n "chats": {\n  "about": "chats",\n  "list": [\n'
    )
    for index in range(spec.channels):
        chan = channel(spec, index)
        head = {"name": chan.title, "type": "public_channel", "id": chan.peer_id}
        out.write("   " if index == 0 else ",\n   ")
        out.write(json.dumps(head, ensure_ascii=False)[:-1])
        out.write(', "messages": [\n')
        first = True
        for post in channel_stream(spec, index):
            if not first:
                out.write(",\n")
            first = False
            out.write("    ")
            out.write(json.dumps(_export_message(post), ensure_ascii=False))
            written += 1
        out.write("\n   ]}")
    out.write("\n  ]\n }\n}\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--posts-per-day", type=int, default=3000)
    parser.add_argument("--relevant-share", type=float, default=0.015)
    parser.add_argument("--jsonl", type=Path, help="write the JSONL corpus here")
    parser.add_argument("--export", type=Path, help="write the Desktop export (result.json) here")
    args = parser.parse_args(argv)
    if args.jsonl is None and args.export is None:
        parser.error("give --jsonl and/or --export")
    spec = Spec(
        args.posts,
        args.channels,
        args.seed,
        posts_per_day=args.posts_per_day,
        relevant_share=args.relevant_share,
    )
    if args.jsonl is not None:
        with args.jsonl.open("w", encoding="utf-8") as out:
            lines = write_jsonl(spec, out)
        print(f"{args.jsonl}: {lines} lines", file=sys.stderr)
    if args.export is not None:
        with args.export.open("w", encoding="utf-8") as out:
            messages = write_export(spec, out)
        print(f"{args.export}: {messages} messages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
