"""Classification throughput: one-pass rules vs one regex per term.

    python bench/bench_classify.py [--posts N] [--naive-posts N] [--seed S]
    (or BENCH_POSTS=... BENCH_NAIVE_POSTS=...)

Generates a corpus of mixed Arabic/English posts of about 1 KB (UTF-8), then for rule
sets of about 50, 500 and 5,000 terms measures, on one core:

* classify: a literal prefilter over the folded text (Hyperscan, or pyahocorasick with
  ``--prefilter aho-corasick``) rules out posts no relevance rule can fire on; the rest are
  tokenised (normalised) and screened per sentence by the Matcher; only posts on which a
  relevance rule may fire get the full scan that builds every hit, then rule evaluation:
  posts/s and MB/s (``RuleSet.classify_doc``, exactly the result of evaluating a full scan);
* naive: the same normalised text searched with one compiled regex per term in a loop
  (on a smaller sample: it is slow), and the ratio;
* compiling the matcher: CPU seconds, and the peak memory a build allocates (tracemalloc).

Rates are posts per CPU second of this process (``time.process_time``): one core's
throughput, robust to other processes sharing the machine. The header says whether the rule
engine's modules run compiled (mypyc, as the install builds them where a C compiler exists)
or as Python (``CONVOYWATCH_PURE_PYTHON=1 pip install -e .`` builds none).

50 and 500 terms are core subsets of the shipped rules (config/rules, also measured as
they are); 5,000 adds gazetteer-like place names, as the Analyser does. Every post carries a few unique
tokens (numbers, names) so the per-chunk caches see a realistic long tail.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.rules.engine import RuleSet, load_ruleset
from bot.rules.matcher import Matcher, TermEntry
from bot.rules.text import normalise, tokenise

ROOT = Path(__file__).resolve().parents[1]

# Three kinds of posts, as a monitored channel mixes them: convoy-attack reports, other
# security news (bases, foiled IEDs, denials, threats), and general news (most of a stream).
AR_ATTACK = [
    "استهداف رتل للدعم اللوجستي التابع للتحالف الدولي بعبوة ناسفة على الطريق السريع قرب {place}",
    "انفجار عبوة ناسفة على رتل شاحنات تنقل معدات للقوات الأمريكية في قضاء {place} صباح اليوم",
    "مسلحون مجهولون يطلقون النار على رتل للحشد الشعبي قرب {place} ما أدى إلى إصابة {n} منتسبين",
    "سرايا أولياء الدم تتبنى استهداف رتل للاحتلال بعبوة ناسفة في {place} يوم {n} {month}",
    "مصدر أمني: لا خسائر بشرية والقوات الأمنية تطوق المكان وتفتح تحقيقاً بالحادث",
]
AR_SECURITY = [
    "خلية الإعلام الأمني تنفي ما تناقلته بعض المواقع بشأن استهداف رتل في {place}",
    "تعلن المقاومة الإسلامية في العراق استهداف قاعدة حرير التابعة للاحتلال الأمريكي بطائرة مسيرة",
    "تفكيك عبوة ناسفة زرعت على جانب الطريق الذي تسلكه أرتال الدعم اللوجستي قرب {place}",
    "مرور رتل كبير يضم أكثر من {n} شاحنة تحمل معدات وآليات على الطريق الدولي باتجاه الشمال",
    "وصول قافلة مساعدات إنسانية تضم {n} شاحنة محملة بالمواد الغذائية إلى {place}",
    "القبض على متهم بزرع عبوات ناسفة في {place} بعملية نوعية لجهاز الأمن الوطني",
]
AR_GENERAL = [
    "المفوضية العليا المستقلة للانتخابات تعلن نسبة المشاركة في الانتخابات البرلمانية",
    "الأمطار الغزيرة تغرق عدداً من شوارع {place} وأمانة العاصمة تستنفر ملاكاتها",
    "منتخبنا الوطني يتوج باللقب بعد الفوز بنتيجة {n} مقابل هدف في المباراة النهائية",
    "وزارة المالية تعلن إطلاق تمويل رواتب موظفي الدولة لشهر {month}",
    "مجلس الوزراء يعقد جلسته الاعتيادية برئاسة رئيس الوزراء ويناقش ملف الموازنة العامة",
    "وزارة الصحة تسجل {n} إصابة جديدة وتدعو المواطنين إلى الالتزام بالإجراءات الوقائية",
    "ارتفاع أسعار صرف الدولار في أسواق {place} مع بداية تعاملات اليوم",
    "وزير النفط يبحث مع شركات أجنبية زيادة معدلات الإنتاج في حقول الجنوب",
    "افتتاح معرض الكتاب الدولي في {place} بمشاركة أكثر من {n} دار نشر عربية وأجنبية",
    "البرلمان يصوت على قانون جديد للضمان الاجتماعي بعد قراءته الثانية",
    "درجات الحرارة تتجاوز خمسين درجة مئوية في {place} والمحافظة تعطل الدوام الرسمي",
    "وزارة التربية تعلن نتائج الامتحانات الوزارية للدراسة الإعدادية بنسبة نجاح {n} بالمئة",
]
EN_ATTACK = [
    "An IED targeted a convoy of trucks moving logistical supplies for US forces near {place} this morning",
    "Gunmen opened fire on a convoy of contractor trucks carrying supplies for coalition forces near {place}",
    "A drone struck a US military convoy near {place} in the eastern countryside; {n} soldiers were wounded",
    "Saraya Awliya al-Dam claims an IED attack on a US occupation logistics convoy near {place} today",
    "Police said the blast damaged two trucks; no casualties were reported",
]
EN_SECURITY = [
    "Security Media Cell denies reports of an attack on a convoy in {place}, calling them fabricated",
    "Two rockets targeted a base near Baghdad International Airport; no casualties, security sources said",
    "Police defused an IED planted on the highway near {place}, a route used by coalition supply convoys",
    "A convoy of {n} trucks carrying aid from the Red Crescent crossed into Syria at the border crossing",
    "Analysts say the rise reflects the factions' preference for low-risk, deniable operations",
    "Kataib Hezbollah warns US forces they will pay a heavy price if they stay in Iraq",
]
EN_GENERAL = [
    "Iraq's oil ministry says crude exports rose slightly, with revenues above ${n} billion for the month",
    "Flash floods hit {place} after heavy rain, sweeping away cars and flooding homes in several districts",
    "The election commission announces preliminary results: turnout was {n} percent across the provinces",
    "The central bank kept its policy rate unchanged as the dinar held steady against the dollar",
    "Parliament postponed the vote on the budget law after lawmakers failed to reach a quorum",
    "The national team beat Jordan {n}-1 in a friendly match played in {place} on Friday",
    "Health officials reported {n} new cases and urged residents to get vaccinated before the winter",
    "A new bridge over the Tigris in {place} will open to traffic next month, the municipality said",
    "The prime minister met a visiting delegation to discuss electricity imports and gas supplies",
    "Temperatures passed 50 degrees in {place}, and the governorate declared a public holiday",
    "Farmers in {place} say the drought has cut the wheat harvest by more than half this year",
    "The ministry of education announced exam results, with a pass rate of {n} percent",
]
KINDS = (("attack", 0.10), ("security", 0.15), ("general", 0.75))
#: The replay benchmark's channel mix (bench/generate.py: 1.5% reports, 2% near misses).
CHANNEL_KINDS = (("attack", 0.015), ("security", 0.02), ("general", 0.965))
POOLS = {
    (True, "attack"): AR_ATTACK,
    (True, "security"): AR_SECURITY,
    (True, "general"): AR_GENERAL,
    (False, "attack"): EN_ATTACK,
    (False, "security"): EN_SECURITY,
    (False, "general"): EN_GENERAL,
}
AR_PLACES = [
    "الديوانية",
    "السماوة",
    "الناصرية",
    "جسر المحاويل",
    "اليوسفية",
    "أبو غريب",
    "الرمادي",
    "الفلوجة",
    "بلد",
]
EN_PLACES = [
    "Diwaniyah",
    "Samawah",
    "Nasiriyah",
    "Hilla",
    "Abu Ghraib",
    "Ramadi",
    "Fallujah",
    "Balad",
    "Tikrit",
]
MONTHS = ["آب", "أيلول", "نيسان", "تموز", "كانون الثاني"]
SYLLABLES_AR = ["تل", "كف", "ام", "قصر", "عين", "بير", "حمر", "زوي", "سيد", "جبل", "خان", "دير", "رس", "نهر"]
SYLLABLES_EN = ["tal", "kaf", "umm", "qasr", "ain", "bir", "hamr", "zawi", "sayyid", "jabal", "khan", "dayr"]


def _name(rng: random.Random, arabic: bool) -> str:
    syllables = SYLLABLES_AR if arabic else SYLLABLES_EN
    words = [
        "".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 2))
    ]
    return " ".join(word if arabic else word.capitalize() for word in words)


def make_corpus(count: int, seed: int, size: int = 1000, mix: str = "stream") -> list[str]:
    """``count`` posts of about ``size`` UTF-8 bytes, ~half Arabic, each with unique tokens.

    ``mix="stream"``: 10% convoy-attack reports, 15% other security news, 75% general news
    (a post mostly in its kind, with general sentences around it); ``mix="channel"``: the
    replay benchmark's shares (1.5% reports, 2% near misses). ``mix="security"``:
    every sentence from the attack and security pools (the worst case: many matches).
    """
    rng = random.Random(seed)
    posts: list[str] = []
    for _ in range(count):
        arabic = rng.random() < 0.5
        places = AR_PLACES if arabic else EN_PLACES
        if mix == "security":
            pool = POOLS[(arabic, "attack")] + POOLS[(arabic, "security")]
            general = pool
        else:
            kinds = CHANNEL_KINDS if mix == "channel" else KINDS
            kind = rng.choices([name for name, _ in kinds], [share for _, share in kinds])[0]
            pool, general = POOLS[(arabic, kind)], POOLS[(arabic, "general")]
        sentences: list[str] = []
        length = 0
        while length < size:
            template = rng.choice(pool if not sentences or rng.random() < 0.6 else general)
            place = rng.choice(places) if rng.random() < 0.7 else _name(rng, arabic)
            sentence = template.format(place=place, n=rng.randint(1, 9999), month=rng.choice(MONTHS))
            sentences.append(sentence + (" ." if arabic else "."))
            length += len(sentence.encode()) + 2
        post = "\n".join(sentences)
        posts.append(post.encode()[:size].decode(errors="ignore"))
    return posts


def _core_entries(ruleset: RuleSet, count: int) -> list[TermEntry]:
    """A small rule vocabulary: the first terms of each concept, round robin."""
    queues = [list(entries) for entries in ruleset.concepts.values()]
    chosen: list[TermEntry] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return chosen


def _gazetteer_entries(count: int, seed: int) -> list[TermEntry]:
    rng = random.Random(seed + 1)
    seen: set[str] = set()
    entries: list[TermEntry] = []
    while len(entries) < count:
        arabic = rng.random() < 0.5
        name = _name(rng, arabic) + " " + _name(rng, arabic)
        if name not in seen:
            seen.add(name)
            entries.append(TermEntry(f"place:{len(entries)}", name))
    return entries


def _engine_build() -> str:
    """Whether the rule engine's modules were compiled by the install (mypyc) or run as Python."""
    import bot.rules.engine  # noqa: PLC0415
    import bot.rules.matcher  # noqa: PLC0415

    files = [Path(module.__file__ or "") for module in (bot.rules.engine, bot.rules.matcher)]
    if all(path.suffix == ".so" for path in files):
        return "compiled (mypyc)"
    return "Python modules (not compiled)"


def _classify_all(ruleset: RuleSet, matcher: Matcher, posts: Sequence[str]) -> tuple[float, int, int, int]:
    """Classify every post as the service does: screen for relevance triggers, then scan and evaluate."""
    relevant = 0
    matched = 0
    scanned = 0
    start = time.process_time()
    for post in posts:
        result, hits = ruleset.classify_doc(tokenise(post), matcher)
        relevant += result.relevant
        matched += len(hits)
        scanned += bool(hits)
    return time.process_time() - start, relevant, matched, scanned


def _naive_all(regexes: Sequence[re.Pattern[str]], posts: Sequence[str]) -> float:
    start = time.process_time()
    for post in posts:
        text = normalise(post)
        found: list[re.Match[str]] = []
        for regex in regexes:
            found.extend(regex.finditer(text))
    return time.process_time() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=int(os.environ.get("BENCH_POSTS", "100000")))
    parser.add_argument("--naive-posts", type=int, default=int(os.environ.get("BENCH_NAIVE_POSTS", "2000")))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", type=Path, default=ROOT / "config" / "rules")
    parser.add_argument(
        "--mix",
        choices=("stream", "channel", "security"),
        default=os.environ.get("BENCH_MIX", "stream"),
        help="stream: 10%% attack reports, 15%% other security news (default); channel: the"
        " replay bench's 1.5%% reports, 2%% near misses; security: every sentence about attacks",
    )
    parser.add_argument(
        "--prefilter",
        choices=("auto", "hyperscan", "aho-corasick"),
        default=os.environ.get("BENCH_PREFILTER", "auto"),
        help="the literal prefilter's engine (auto: Hyperscan where installed)",
    )
    args = parser.parse_args(argv)

    ruleset = load_ruleset(args.rules)
    start = time.process_time()
    prefilter = ruleset.use_prefilter(args.prefilter)
    prefilter_seconds = time.process_time() - start
    shipped = list(ruleset.entries)
    sizes = {
        "~50": _core_entries(ruleset, 50),
        "~500": _core_entries(ruleset, 500),
        "shipped": shipped,
        "~5000": shipped + _gazetteer_entries(5000 - len(shipped), args.seed),
    }
    started = time.perf_counter()
    posts = make_corpus(args.posts, args.seed, mix=args.mix)
    megabytes = sum(len(post.encode()) for post in posts) / 1e6
    print(
        f"corpus ({args.mix}): {len(posts):,} posts, {megabytes:.1f} MB UTF-8"
        f" (avg {megabytes * 1e6 / len(posts):.0f} B),"
        f" generated in {time.perf_counter() - started:.1f}s; python {sys.version.split()[0]}, one core"
    )
    print(f"rule engine: {_engine_build()}")
    print(
        f"prefilter: {prefilter.engine}, {prefilter.keys:,} keys for the concepts relevance rules need,"
        f" compiled in {prefilter_seconds:.3f}s, {prefilter.size / 1e6:.1f} MB"
        " (once per rule set; the 'compile s' and 'mem MB' columns are the matcher)"
    )
    print(
        f"{'terms':>6} {'compile s':>9} {'mem MB':>7} {'posts/s':>9} {'MB/s':>6}"
        f" {'naive posts/s':>13} {'ratio':>7} {'scanned':>8} {'hits/scan':>9} {'relevant':>9}"
    )
    for entries in sizes.values():
        gc.collect()
        tracemalloc.start()  # memory of a build (tracemalloc slows it: timed separately below)
        Matcher(entries)
        memory = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        gc.collect()
        start = time.process_time()
        matcher = Matcher(entries)
        compile_seconds = time.process_time() - start
        elapsed, relevant, matched, scanned = _classify_all(ruleset, matcher, posts)
        rate = len(posts) / elapsed
        sample = posts[: args.naive_posts]
        regexes = [
            re.compile(r"(?<!\w)" + re.escape(normalise(entry.term).rstrip("*")) + r"(?!\w)")
            for entry in entries
            if not entry.regex
        ]
        naive_elapsed = _naive_all(regexes, sample) if sample else 0.0
        naive_rate = len(sample) / naive_elapsed if naive_elapsed else float("nan")
        print(
            f"{len(entries):>6} {compile_seconds:>9.3f} {memory:>7.1f} {rate:>9,.0f}"
            f" {megabytes / elapsed:>6.2f}"
            f" {naive_rate:>13,.0f} {rate / naive_rate:>6.0f}x {scanned / len(posts):>8.0%}"
            f" {matched / max(scanned, 1):>9.1f} {relevant:>9,}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
