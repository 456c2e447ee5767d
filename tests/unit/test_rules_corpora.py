"""The shipped rules on the hand-written held-out corpora: every relevance verdict right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.rules.engine import RuleSet, load_ruleset
from bot.rules.evaluate import evaluate_records

ROOT = Path(__file__).parents[2]
CORPORA = ["rules_holdout.jsonl", "rules_holdout2.jsonl", "rules_holdout3.jsonl"]


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    """The rule set shipped in config/rules."""
    return load_ruleset(ROOT / "config" / "rules")


def _records(name: str) -> list[dict[str, object]]:
    path = ROOT / "tests" / "data" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", CORPORA)
def test_relevance_is_exact_on_the_rules_holdout_corpora(shipped: RuleSet, name: str) -> None:
    """Relevance precision and recall are both 1.0 on each hand-written held-out corpus."""
    report = evaluate_records(shipped, _records(name))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


def test_third_holdout_has_hard_negatives_and_positives() -> None:
    """rules_holdout3 holds both relevant reports and hard negatives, so the test can fail."""
    labels = [record["label"] for record in _records("rules_holdout3.jsonl")]
    relevant = sum(1 for label in labels if isinstance(label, dict) and label["relevant"])
    assert 20 <= relevant <= len(labels) - 20


def test_relevance_is_exact_on_the_fifth_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind5 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind5.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind5 errors, in sentences of our own (none is from a corpus).
PHENOMENA = [
    ("انفجار عبوة ناسفة برتل للتحالف في الديوانية وتصاعدت ألسنة اللهب من الشاحنات.", True),
    ("شهدت المحافظات الجنوبية تصاعدا في استهداف الأرتال.", False),
    ("Supply convoys in Anbar were sporadically targeted by IEDs over the summer.", False),
    ("في مثل هذه الأيام من عام 2020.. استهداف رتل للتحالف بعبوة ناسفة في الديوانية.", False),
    ("Ten years ago today, insurgents blew up a US convoy near Fallujah.", False),
    ("حصيلة الأسبوع: ١٥ عملية استهداف لأرتال الدعم اللوجستي في الجنوب.", False),
    ("Monthly tally: 23 IED attacks on coalition supply convoys in southern Iraq.", False),
    ("The coalition said no US convoys were hit in Diwaniyah on Sunday.", False),
    ("An IED struck a coalition supply convoy near Nasiriyah; no casualties among convoy crews.", True),
    ("مجاهدو المقاومة يضربون رتلا للاحتلال الأمريكي على طريق بغداد - الموصل مساء اليوم.", True),
    ("قصف رتل لقوات الاحتلال بواسطة الطيران المسيّر قرب الشدادي.", True),
    ("عاصفة ترابية تضرب المحافظات الجنوبية وتوقف حركة الأرتال على الطريق الدولي.", False),
    (
        "An IED exploded next to a coalition supply convoy near Samawah on Tuesday, while army engineers"
        " defused a second device nearby.",
        True,
    ),
    ("Army engineers defused an IED before it exploded under a coalition convoy near Samawah.", False),
    ("دوي انفجار قرب طريق الأرتال في السماوة ناتج عن تفجير مسيطر عليه لعبوة ناسفة.", False),
]


@pytest.mark.parametrize(("text", "relevant"), PHENOMENA)
def test_blind5_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind5 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


LABELS = [
    ("Gunmen fired on a Turkish military convoy near Zakho on Monday.", "target", "other"),
    ("An IED hit an Iraqi army convoy near Tarmiyah on Monday.", "target", "iraqi_forces"),
    (
        "An IED hit a convoy of a foreign oil company; the convoy was not linked to the coalition.",
        "target",
        "other",
    ),
    ("انفجار عبوة ناسفة برتل امريكاني في الديوانية", "target", "us_coalition"),
    (
        "Rockets landed inside an air base, and separately an IED struck a US convoy near Hilla.",
        "attack_type",
        "ied",
    ),
    ("استهداف رتل للتحالف بطائرة مسيرة مفخخة قرب الرطبة", "attack_type", "drone"),
]


@pytest.mark.parametrize(("text", "category", "value"), LABELS)
def test_blind5_label_phenomena(shipped: RuleSet, text: str, category: str, value: str) -> None:
    """The label cues found on blind5 give the intended attack_type or target."""
    assert shipped.classify(text).labels[category] == value


def test_relevance_is_exact_on_the_sixth_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind6 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind6.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind6 errors, in sentences of our own (none is from a corpus).
BLIND6_PHENOMENA = [
    ("A group of lorries travelling together near Tuz Khurmatu was struck by a roadside explosive.", True),
    ("انفجار عبوة ناسفة بشاحنات كانت تسير معاً على طريق كركوك - بغداد.", True),
    ("Trucks travelling together through Safwan reached Baghdad safely on Monday.", False),
    ("مسلحون يطلقون النار على موكب مدير ناحية مكون من ثلاث سيارات قرب بعقوبة.", True),
    ("Gunmen fired on the governor's motorcade near Kut.", False),
    ("Fact check: the clip of a coalition convoy hit by an IED near Nasiriyah is old footage.", False),
    ("FACT CHECK\nA video of an IED striking a US convoy near Hilla is circulating today.", False),
    ("The video of the IED blast on a US convoy near Hilla is actually from 2019.", False),
    ("لكو عبوة ناسفة على طريق الرتل بالحلة والهندسة فككوها.", False),
    ("وجدت القوات الأمنية عبوة ناسفة على الطريق الذي تسلكه أرتال التحالف في الحلة.", False),
    ("Interactive map of IED attacks on convoys, Mar 2019 to Jun 2021, now online.", False),
    ("Heatmap: IED strikes on coalition convoys by district.", False),
    ("استهداف رتل للتحالف بقذيفة قرب الحلة والدخان يتصاعد من إحدى الشاحنات.", True),
]


@pytest.mark.parametrize(("text", "relevant"), BLIND6_PHENOMENA)
def test_blind6_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind6 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


BLIND6_LABELS = [
    ("مجاهدونا يستهدفون بالمسيرات رتلا للاحتلال الأمريكي قرب الرطبة.", "attack_type", "drone"),
    ("A drone dropping grenades hit a column of Peshmerga vehicles near Makhmour.", "attack_type", "drone"),
    ("An army convoy was shelled near Sinjar on Friday.", "attack_type", "rocket"),
    ("اعتداء مسلح على رتل للجيش قرب تكريت.", "attack_type", "gunfire"),
    ("Gunmen attacked an ISF convoy near Baiji on Monday.", "target", "iraqi_forces"),
    (
        "A roadside bomb hit a convoy of armoured vehicles belonging to the Iraqi counter-terrorism forces"
        " near Rawa.",
        "target",
        "iraqi_forces",
    ),
    (
        "Three federal police officers were wounded on Sunday when a bomb hit their convoy near Tarmiyah.",
        "target",
        "iraqi_forces",
    ),
    ("IED strike on a CLP convoy near Nasiriyah, no casualties.", "target", "us_coalition"),
    ("Gunmen set fire to Jordanian trucks carrying foodstuffs in a convoy near Rutba.", "target", "other"),
    ("انفجار عبوة ناسفة برتل شاحنات تابعة لوزارة التجارة قرب الكوت.", "target", "other"),
    (
        "Arsonists set fire to a convoy carrying building materials for a Chinese company near Kut.",
        "target",
        "other",
    ),
    ("مصدر في الشرطة: انفجار عبوة ناسفة برتل شاحنات مجهولة العائدية قرب الكوت.", "target", "unknown"),
    (
        "Weekly round-up (coalition logistics):\nMon – IED, Rumaytha\nThu – trucks torched, Hilla",
        "target",
        "us_coalition",
    ),
    ("مسلحون يطلقون النار على موكب قائممقام الخالص المؤلف من ثلاث سيارات.", "target", "other"),
]


@pytest.mark.parametrize(("text", "category", "value"), BLIND6_LABELS)
def test_blind6_label_phenomena(shipped: RuleSet, text: str, category: str, value: str) -> None:
    """The label cues found on blind6 give the intended attack_type or target."""
    classification = shipped.classify(text)
    assert classification.relevant, "labels are decided for relevant posts (test premise)"
    assert classification.labels[category] == value


def test_relevance_is_exact_on_the_seventh_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind7 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind7.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind7 errors, in sentences of our own (none is from a corpus).
BLIND7_PHENOMENA = [
    ("Fifteen years on, residents of Hilla remember the IED that destroyed a supply convoy.", False),
    ("يستذكر أهالي الفلوجة كمين الرتل الأمريكي عام 2004.", False),
    ("The clip is misrepresented online as a US convoy hit by an IED near Tikrit.", False),
    ("Footage of trucks near Baiji is shared out of context as a convoy attack.", False),
    ("المقطع يظهر رتلاً يمر قرب الرطبة ولا أثر لأي هجوم رغم ادعاء استهدافه بعبوة.", False),
    ("استهداف رتل للتحالف بعبوة ناسفة قرب الرطبة ولا يوجد أثر للمنفذين.", True),
    ("The convoy seen passing Rutba shows no sign of an attack, despite claims it was hit by an IED.", False),
    ("تأمين طريق الأرتال بعد معلومات عن نية خلايا إرهابية استهداف رتل للتحالف قرب الرمادي.", False),
    ("Police deployed along the highway after intelligence on a plan to attack a coalition convoy.", False),
    ("إطلاق نار كثيف خلال نزاع عشائري في الشطرة يوقف حركة الأرتال لساعات.", False),
    ("Gunfire in a tribal dispute near Amarah forced supply convoys to stop on the highway.", False),
    ("A roadside bomb struck a coalition convoy near Rumaytha; no sign of the attackers was found.", True),
    ("انفجار عبوة ناسفة على رتل للتحالف قرب الديوانية والشرطة تبحث عن المنفذين.", True),
]


@pytest.mark.parametrize(("text", "relevant"), BLIND7_PHENOMENA)
def test_blind7_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind7 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


BLIND7_LABELS = [
    ("قنص عنصر في رتل للجيش العراقي قرب الطارمية.", "attack_type", "gunfire"),
    ("نيران القناصة تستهدف رتلاً للحشد الشعبي قرب المقدادية.", "attack_type", "gunfire"),
    ("انفجار عبوة ناسفة برتل صهاريج تابع لشركة نفط ميسان قرب العمارة.", "target", "other"),
    ("Gunmen opened fire on a convoy of a private company near Baiji.", "target", "other"),
    ("An IED hit a convoy of trucks hauling cement for a housing project near Kut.", "target", "other"),
    ("An IED hit a coalition supply convoy near the cement factory in Kufa.", "target", "us_coalition"),
    ("A drone hit a convoy carrying weapons for Iranian-backed militias near Qaim.", "target", "unknown"),
    ("A drone hit a convoy of Iranian trucks near Qaim.", "target", "other"),
    ("استهداف رتل شاحنات تنقل معدات إلى قاعدة عين الأسد بعبوة ناسفة قرب البغدادي.", "target", "us_coalition"),
    ("An IED hit a convoy of trucks carrying equipment to Ain al-Asad near Hit.", "target", "us_coalition"),
    ("استهداف رتل للجيش العراقي ينقل معدات قرب قاعدة عين الأسد بعبوة ناسفة.", "target", "iraqi_forces"),
]


@pytest.mark.parametrize(("text", "category", "value"), BLIND7_LABELS)
def test_blind7_label_phenomena(shipped: RuleSet, text: str, category: str, value: str) -> None:
    """The label cues found on blind7 give the intended attack_type or target."""
    classification = shipped.classify(text)
    assert classification.relevant, "labels are decided for relevant posts (test premise)"
    assert classification.labels[category] == value


def test_relevance_is_exact_on_the_ninth_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind9 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind9.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind9 errors, in sentences of our own (none is from a corpus).
BLIND9_PHENOMENA = [
    # road collisions told with a verb are accidents; a convoy that "ran into" a device is not
    (
        "A fuel tanker collided with the lead truck of a US supply convoy near Samawah and destroyed it.",
        False,
    ),
    ("The driver lost control of his lorry and struck the last vehicle of an army convoy near Kut.", False),
    ("شاحنة مسرعة اصطدمت برتل عسكري ودمرت عجلتين منه قرب الكوت.", False),
    ("وارتطمت سيارة أجرة بصهريج في رتل للتحالف فدمرت مقدمته على طريق الناصرية.", False),
    ("اصطدمت عجلة في رتل الدعم اللوجستي بعبوة ناسفة قرب الحمزة.", True),
    # the Anbar town of Hit is not the verb "hit"
    ("A convoy of the Anbar police reached Hit on Sunday morning.", False),
    ("An army convoy moved on the road between Haditha and Hit ahead of the clearance.", False),
    ("An army convoy was hit on the road between Ramadi and Hit.", True),
    ("A hit-and-run attack on a police convoy near Hit killed two.", True),
    ("A roadside bomb hit a supply convoy west of Hit on Sunday.", True),
    # preparing or intending to attack is not an attack; a convoy preparing to leave can be hit
    (
        "Intelligence says a cell was preparing to target US supply convoys with IEDs"
        " on the Nasiriyah highway.",
        False,
    ),
    (
        "Police shot dead two men who were about to plant IEDs on the road used by"
        " coalition convoys near Kut.",
        False,
    ),
    ("معلومات عن خلية تستعد لاستهداف أرتال الدعم اللوجستي بعبوات ناسفة على طريق الناصرية.", False),
    ("وكانوا يعدون لتفجير عبوة على رتل للتحالف قرب السماوة.", False),
    ("مصدر: عناصر داعش يعتزمون استهداف رتل للجيش بعبوات ناسفة في وادي حوران.", False),
    ("خلية خططت لاستهداف رتل للتحالف بعبوة ناسفة في الناصرية.", False),
    ("The convoy was preparing to leave Rutba when an IED exploded beside it.", True),
    ("In a well-planned ambush, gunmen attacked a US convoy near Taji.", True),
    ("يعد الاستهداف الثالث لرتل التحالف بعبوة ناسفة في الناصرية هذا الأسبوع.", True),
    # the possibility of attacks to come (alerts, advisories); not "further attacks" after one
    (
        "The embassy advises against road travel to Basra given the potential for IED"
        " attacks on coalition convoys.",
        False,
    ),
    ("Drivers must remain alert to the possibility of IED attacks on supply convoys near Nasiriyah.", False),
    ("السفارة تدعو رعاياها إلى توخي الحذر من إمكانية استهداف الأرتال على الطريق الدولي.", False),
    ("رفع الجاهزية تحسباً لاستهداف أرتال الدعم اللوجستي بعبوات ناسفة.", False),
    ("An IED hit a US supply convoy near Samawah amid fears of the possibility of further attacks.", True),
    ("استهداف رتل للتحالف بعبوة ناسفة في السماوة وسط استنفار أمني تحسبا لهجمات أخرى.", True),
    ("انفجار عبوة ناسفة برتل للتحالف في الديوانية، والشرطة تدعو المواطنين إلى توخي الحذر.", True),
    # primers and profiles of the groups are explainers
    ("A primer on the Kataib Hezbollah fronts that claim IED attacks on US convoys.", False),
    ("ملف تعريفي: الفصائل التي تتبنى استهداف أرتال التحالف بالعبوات.", False),
    ("تعرّف على الجماعات التي تتبنى تفجير أرتال الدعم اللوجستي.", False),
    ("نبذة عن الفصائل التي تتبنى استهداف الأرتال بعبوات ناسفة.", False),
    ("انفجار عبوة ناسفة برتل للتحالف قرب الديوانية ولم تعرف على وجه الدقة حجم الأضرار.", True),
    # claims count "operations against" convoys; a campaign that goes on or stops is no attack
    (
        "Our heroes carried out two operations against the supply columns of the"
        " occupation in Babil and Wasit today.",
        True,
    ),
    (
        "Saraya al-Nasr: our fighters carried out three operations against the logistics convoys of the"
        " occupation:\n- Samawah\n- Rumaytha\n- Khidr\nAll by IEDs.",
        True,
    ),
    ("نفذ مجاهدونا ثلاث عمليات ضد أرتال الاحتلال الأمريكي في السماوة والديوانية اليوم.", True),
    ("عمليتان نوعيتان على قوافل الإمداد الأمريكية في ذي قار فجر اليوم.", True),
    ("إغارة على رتل للجيش في وادي الشاي فجر اليوم.", True),
    (
        "Iraqi forces launched an operation against ISIS cells in Hamrin as an army"
        " convoy brought reinforcements.",
        False,
    ),
    ("سنواصل عملياتنا ضد أرتال المحتل حتى يخرج آخر جندي.", False),
    ("Our operations against the occupation convoys will continue until the last soldier leaves.", False),
    ("تعلن المقاومة وقف عملياتها ضد أرتال الاحتلال خلال شهر رمضان.", False),
    ("The group suspended its operations against coalition convoys for the elections.", False),
]


@pytest.mark.parametrize(("text", "relevant"), BLIND9_PHENOMENA)
def test_blind9_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind9 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


def test_relevance_is_exact_on_the_tenth_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind10 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind10.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind10 errors, in sentences of our own (none is from a corpus).
BLIND10_PHENOMENA = [
    # history series: headers and hashtags, a month of a past year; a dated day is a report
    ("#OnThisDay 2005: insurgents ambushed a fuel convoy near Balad, killing four drivers.", False),
    ("#TodayInHistory: a roadside bomb tore through a US supply convoy outside Fallujah.", False),
    ("Today in history - 2006: an IED destroyed three trucks of a coalition convoy near Taji.", False),
    ("#TBT: the burned tankers of a KBR convoy on the Abu Ghraib road.", False),
    ("#من_الذاكرة | كمين لرتل أمريكي قرب الرمادي وإحراق ناقلاته.", False),
    ("من ذاكرة المقاومة: تفجير عبوة ناسفة برتل للاحتلال على طريق المطار.", False),
    ("في مثل هذا الشهر من عام 2007 استهدفت المقاومة رتلاً أمريكياً بعبوة ناسفة قرب بيجي.", False),
    ("In March 2005 insurgents repeatedly attacked supply convoys on Route Tampa.", False),
    ("خلال شهر آذار 2006 تعرضت أرتال الإمداد لهجمات بالعبوات قرب سامراء.", False),
    ("On 5 April 2021 an IED hit a supply convoy near Diwaniyah.", True),
    ("في 5 نيسان 2021 انفجرت عبوة ناسفة برتل للتحالف قرب الديوانية.", True),
    ("An IED struck a coalition convoy near Samawah, a grim throwback to the 2000s.", True),
    ("During the 2004 uprising insurgents ambushed supply convoys near Fallujah.", False),
    ("An IED hit a US convoy near Kut, the worst attack since the 2019 protests.", True),
    # a device meant (prepared, designed) for convoys is not an attack; its blast still is
    ("عثرت القوات على عبوة ناسفة مُعدّة لاستهداف أرتال الدعم اللوجستي قرب الناصرية.", False),
    ("المصدر: العبوة كانت مجهزة لضرب رتل للتحالف على الطريق الدولي.", False),
    (
        "Police said the device, meant to target coalition supply convoys, was removed from the"
        " road near Kut.",
        False,
    ),
    ("The IEDs were designed for use against supply convoys on the Basra highway, police said.", False),
    ("انفجرت عبوة ناسفة كانت معدة لاستهداف رتل للتحالف على طريق السماوة.", True),
    ("انفجار عبوة ناسفة على رتل للجيش في الطارمية والمعدات متضررة.", True),
    # an explosion that did not happen, and the finite verbs of making a device safe
    ("فرق الهندسة تفكك عبوة ناسفة قرب طريق أرتال الدعم اللوجستي من دون انفجار.", False),
    ("سقطت قذيفة قرب رتل للتحالف ولم تنفجر.", False),
    ("A rocket landed near a coalition convoy on the Basra road but failed to explode.", False),
    (
        "Engineers made safe a roadside bomb on the route used by supply convoys near Samawah"
        " without any explosion.",
        False,
    ),
    ("أبطلت مفارز الهندسة مفعول عبوة ناسفة على طريق أرتال الإمداد قرب السماوة.", False),
    ("EOD teams rendered safe an IED on the highway used by coalition convoys near Kut.", False),
    ("Engineers neutralised two IEDs on the road used by supply convoys near Hilla.", False),
    ("انفجار عبوة ناسفة برتل للتحالف في الديوانية دون وقوع إصابات.", True),
    ("An IED exploded beside a US convoy near Nasiriyah without causing casualties.", True),
    ("Troops neutralised the gunmen who ambushed a supply convoy near Balad.", True),
    ("Police disarmed an IED on the road used by coalition convoys near Kut.", False),
    ("An IED went off minutes before the supply convoy passed near Kut.", False),
    ("An IED exploded under the third truck before the convoy reached Kut.", True),
    (
        "انفجار عبوة ناسفة برتل للتحالف في الحلة ولاذ المهاجمون بالفرار قبل وصول القوات الأمنية.",
        True,
    ),
    # travel advisories and the risk (danger, fear) of attacks; not "avoid the area" after one
    (
        "Travel advisory: contractors should avoid road travel to Baghdad airport because of IED"
        " attacks on convoys along that road.",
        False,
    ),
    (
        "Staff should avoid all travel on Route Irish given the danger of roadside bombs targeting convoys.",
        False,
    ),
    ("ننصح السائقين بتجنب السفر ليلاً على طريق الناصرية بسبب خطر العبوات التي تستهدف الأرتال.", False),
    ("شركات النقل تعلق رحلاتها خشية تعرض أرتالها لهجمات بالعبوات الناسفة.", False),
    ("An IED struck a US convoy near Kut and police asked drivers to avoid the area.", True),
    ("أصيب سائق بجروح خطرة إثر انفجار عبوة ناسفة برتل للتحالف قرب الحلة.", True),
    ("انفجار عبوة برتل للتحالف في السماوة، وانسحب الرتل خشية هجوم آخر.", True),
    # calls to attack: first person, base forms, imperatives, "let us", "must be targeted"
    ("We call upon the youth of Iraq to attack the occupier's convoys on every road.", False),
    ("Let us turn their supply convoys into burning wrecks.", False),
    ("The channel called for renewed attacks on coalition supply convoys.", False),
    ("The occupier's convoys must be targeted on every road, the statement said.", False),
    ("ندعو جميع العراقيين الأحرار إلى استهداف أرتال المحتل أينما وجدت.", False),
    ("نهيب بشباب المقاومة لضرب قوافل الإمداد الأمريكية.", False),
    ("اضربوا أرتال الاحتلال بالعبوات على كل الطرق.", False),
    ("لنجعل قوافل المحتل ركاماً محترقاً.", False),
    ("يجب استهداف أرتال المحتل على كل الطرق.", False),
    ("Gunmen ambushed a US supply convoy near Taji; the group called on others to follow.", True),
    # bullets and rounds are gunfire without the word "fire"; bullet-proof vehicles are not
    ("Gunmen sprayed bullets at a coalition supply convoy near Samawah this morning.", True),
    ("A convoy of army trucks was riddled with bullets on the Kirkuk road.", True),
    ("Insurgents engaged a US convoy in a firefight near Balad.", True),
    ("مسلحون يمطرون رتلاً للتحالف برصاص كثيف قرب الديوانية.", True),
    ("شاحنات تسير معاً محملة بمعدات للتحالف تتعرض لعيارات نارية قرب الكوت.", True),
    ("رشقة نارية على رتل للجيش في الطارمية فجر اليوم.", True),
    ("Gunmen raked a coalition supply convoy with automatic fire near Kut.", True),
    ("رمي بأسلحة بي كي سي على رتل للتحالف قرب الكوت فجر اليوم.", True),
    ("A convoy of bullet-proof SUVs carried the delegation to the Green Zone.", False),
    ("The army's news bulletin said a convoy reached Rutba.", False),
]


@pytest.mark.parametrize(("text", "relevant"), BLIND10_PHENOMENA)
def test_blind10_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind10 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


def test_relevance_is_exact_on_the_twelfth_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind12 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind12.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind12 errors, in sentences of our own (none is from a corpus).
BLIND12_PHENOMENA = [
    # "blown up" (the irregular participle), "blown apart", and نسف with its finite verbs
    ("A coalition supply convoy was blown up on the Diwaniyah highway at dawn.", True),
    ("Two fuel tankers of a US convoy were blown apart near Kut this morning.", True),
    ("Insurgents are blowing up supply convoys on the Basra road, a resident said.", True),
    ("نسف رتل للدعم اللوجستي التابع للتحالف على طريق الناصرية فجر اليوم.", True),
    ("مجاهدونا ينسفون رتلاً أمريكياً قرب الديوانية.", True),
    ("ونسفت المقاومة شاحنتين ضمن رتل للاحتلال في السماوة.", True),
    ("سننسف أرتال المحتل على كل الطرق.", False),
    ("The group said it will blow up every coalition convoy on the highway.", False),
    # a wave, spate or series of attacks is the many, not one; a new attack within one is news
    (
        "Contractors now move their convoys at night after a spate of roadside bomb attacks this spring.",
        False,
    ),
    ("Logistics firms hired more guards for their trucks following a wave of attacks.", False),
    ("After months of attacks on its supply convoys, the company suspended deliveries to Kut.", False),
    ("غيّرت شركات النقل مواعيد أرتالها بعد موجة من الهجمات بالعبوات الناسفة.", False),
    ("غيّر المتعاقدون طرق قوافل الإمداد بسبب تكرار الهجمات بالعبوات.", False),
    ("A wave of attacks hit supply convoys across the south on Tuesday, with IEDs near Kut and Hilla.", True),
    ("An IED struck a US supply convoy near Kut, the latest in a string of attacks on the road.", True),
    ("Gunmen ambushed a coalition convoy near Balad amid a wave of attacks on logistics routes.", True),
    ("انفجرت عبوة ناسفة برتل للتحالف في الديوانية ضمن سلسلة هجمات على خطوط الإمداد.", True),
    # protection against attacks is a precaution; armour that protected the crew in a real blast is not
    (
        "The ministry bought armoured trucks to protect supply convoys from roadside bombs on the"
        " southern highway.",
        False,
    ),
    ("New jammers are designed to shield coalition convoys against IEDs.", False),
    ("The army deployed drones for the protection of logistics convoys against ambushes.", False),
    ("وزارة الدفاع تتعاقد على عجلات مدرعة لحماية الأرتال من العبوات الناسفة.", False),
    ("خطة لتأمين قوافل الإمداد ضد هجمات الطائرات المسيرة.", False),
    (
        "An IED hit a US convoy near Samawah and the armour protected the crew from the blast.",
        True,
    ),
    ("An IED struck a coalition convoy and helicopters flew in to protect it from further attacks.", True),
    ("An IED struck an army convoy sent to protect supply routes from ISIS attacks near Baiji.", True),
    ("استهدفت عبوة ناسفة رتلاً للجيش مكلفاً بتأمين الطريق من هجمات داعش قرب بيجي.", True),
    # a device cleared, removed or lifted (route clearance), and one cleared before a convoy was due
    ("Army engineers cleared two IEDs from the road used by supply convoys near Baiji.", False),
    ("Police removed a roadside bomb hours before a coalition convoy was scheduled to use the road.", False),
    ("Troops swept the highway for IEDs ahead of the supply convoy's passage.", False),
    ("رفعت مفارز الهندسة العسكرية عبوة ناسفة من طريق أرتال الدعم اللوجستي قرب السماوة.", False),
    ("تمكنت القوات الأمنية من معالجة عبوة ناسفة قبيل مرور رتل للجيش في الطارمية.", False),
    ("فرق الهندسة تطهر الطريق الدولي من العبوات قبل موعد مرور أرتال الإمداد.", False),
    (
        "An IED struck a US convoy near Kut and engineers later cleared another device nearby.",
        True,
    ),
    ("Crews cleared the wreckage after a roadside bomb hit a supply convoy near Hilla.", True),
    ("انفجرت عبوة ناسفة برتل للتحالف قرب الكوت ووصلت مفارز معالجة المتفجرات إلى المكان.", True),
    ("An IED exploded under a truck before the convoy reached Kut.", True),
    ("استهدفت عبوة ناسفة رتلاً للتحالف قبل عبوره الحدود إلى سوريا.", True),
    # a drone or rocket intercepted, shot down, or stopped before it reached its target
    ("Air defences shot down an explosive-laden drone heading for a coalition convoy near Erbil.", False),
    ("Two rockets fired at a US convoy were intercepted before they reached their target.", False),
    ("اعترضت الدفاعات الجوية طائرة مسيرة مفخخة كانت متجهة نحو رتل للتحالف قرب أربيل.", False),
    ("تم إسقاط طائرة مسيرة قبل وصولها إلى هدفها قرب رتل للتحالف.", False),
    ("أسقطت طائرة مسيرة قنبلة على رتل للتحالف قرب أربيل.", True),
    ("A drone struck a US convoy near Erbil after guards shot down another drone.", True),
    ("A drone struck a US convoy near Erbil after guards shot down one of the drones.", True),
    ("A drone hit a coalition convoy near Erbil and another drone was shot down nearby.", True),
    ("Gunmen intercepted a supply convoy near Balad and set the trucks on fire.", True),
    ("Gunmen intercepted the supply convoy with rockets near Balad.", True),
    ("اعترض مسلحون رتلاً للتحالف وأطلقوا قذيفة آر بي جي على إحدى شاحناته.", True),
    ("Coalition forces downed the drone after it struck a supply convoy near Erbil.", True),
    ("It was not clear whether a bomb or a rocket hit the coalition convoy near Kut.", True),
    ("An IED struck a coalition convoy near Samawah, the first since a series of attacks in spring.", True),
]


@pytest.mark.parametrize(("text", "relevant"), BLIND12_PHENOMENA)
def test_blind12_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind12 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


BLIND12_LABELS = [
    # a convoy hired by the US is the coalition's; "blown up" and نسف are bombings; a drone that
    # drops a bomb (the verb before its subject) is a drone attack
    ("A roadside bomb struck a US-contracted fuel convoy near Nasiriyah.", "target", "us_coalition"),
    ("Gunmen ambushed a convoy of US contractors' trucks near Balad.", "target", "us_coalition"),
    ("A coalition supply convoy was blown up near Kut this morning.", "attack_type", "ied"),
    ("مجاهدونا ينسفون رتلاً أمريكياً قرب الديوانية.", "attack_type", "ied"),
    ("أسقطت طائرة مسيرة قنبلة على رتل للتحالف قرب أربيل.", "attack_type", "drone"),
    ("Gunmen stopped a supply convoy near Balad and set the trucks on fire.", "attack_type", "arson"),
]


@pytest.mark.parametrize(("text", "category", "value"), BLIND12_LABELS)
def test_blind12_label_phenomena(shipped: RuleSet, text: str, category: str, value: str) -> None:
    """The label cues found on blind12 give the intended attack_type or target."""
    classification = shipped.classify(text)
    assert classification.relevant, "labels are decided for relevant posts (test premise)"
    assert classification.labels[category] == value


def test_relevance_is_exact_on_the_thirteenth_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind13 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind13.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind13 errors, in sentences of our own (none is from a corpus).
BLIND13_PHENOMENA = [
    # a column named by its force or kind is a military convoy; a column of smoke or a newspaper's is not
    ("ISIS gunmen ambushed a PMU column near Tarmiyah on Monday, killing two fighters.", True),
    ("A roadside bomb struck a Peshmerga column near Makhmour this morning.", True),
    ("Militants attacked a regime column with RPGs east of Palmyra.", True),
    ("An SDF column crossed into Hasakah on Tuesday without incident.", False),
    ("A column of smoke rose over the base after the rocket attack.", False),
    ("In his weekly column, the analyst argues that IED attacks on convoys rose in 2021.", False),
    # Iraqi على + ال contracted to عال, and طق "went off" (written with the gaf)
    ("طگت عبوة عالرتل الامريكاني قرب الرمادي الصبح", True),
    ("رموا رصاص عالقافلة اللي تنقل معدات للقاعدة بطريق بغداد", True),
    ("الرتل مر عالطريق الدولي بدون مشاكل", False),
    ("طگت عبوة بالرتل الامريكاني واحترگ اطار شاحنة", True),
    ("انفجر اطار احدى شاحنات الرتل الامريكاني قرب الفلوجة", False),
    ("طگ تاير صهريج بالرتل الامريكاني قرب الفلوجة والسواق بخير", False),
    # Iraqi اطلاقات "rounds, shots"
    ("رمي اطلاقات نارية على رتل للجيش قرب بيجي واصابة جندي", True),
    ("تعرض رتل للحشد الى اطلاقات كثيفة من مجهولين قرب الخالص", True),
    ("اطلاقات نارية في الهواء احتفالاً بمرور رتل الزوار", False),
    ("اطلاقات نارية خلال نزاع عشائري أوقفت حركة الأرتال على الطريق الدولي", False),
    # fuel is a supply convoy's load
    ("أحرق مسلحون صهاريج الوقود المتجهة إلى قاعدة عين الأسد قرب هيت", True),
    ("استهداف شاحنات تنقل المحروقات لقوات الاحتلال بعبوة ناسفة في الزبير", True),
    ("Gunmen set fire to tankers carrying fuel for US forces near Rutba.", True),
    ("ارتفاع أسعار الوقود بعد توقف صهاريج النقل على الحدود", False),
    ("حريق في محطة وقود بالبصرة يلتهم ثلاثة صهاريج", False),
    ("انقلاب صهريج وقود واحتراقه على طريق بغداد كركوك", False),
    ("A crash on the Basra highway set two tankers carrying fuel on fire.", False),
    # heavy haulage by its kind: lowboys, flatbeds, سطحات
    ("Three IEDs hit contractor lowboys near Taji on Monday.", True),
    ("Gunmen fired on flatbeds carrying coalition equipment west of Ramadi.", True),
    ("استهداف سطحات تنقل معدات للتحالف بعبوة ناسفة قرب أبو غريب", True),
    ("Flatbeds carrying coalition equipment crossed the Trebil border on Sunday.", False),
    ("Contractor lowboys carrying equipment were stuck for hours after one overturned near Taji.", False),
    # vehicles in the plural hit while on the move are a group moving together; passing cars are not
    ("انفجار عبوة ناسفة بآليات تابعة للجيش أثناء مرورها على طريق بيجي", True),
    ("Two coalition armoured vehicles were hit by an IED as they passed the Rabia crossing.", True),
    ("انفجار عبوة ناسفة بسيارات مدنية أثناء مرورها قرب بعقوبة", False),
    ("An IED went off as cars passed on the highway near Baqubah, wounding two people.", False),
    ("تمكنت القوات من تفكيك عبوة ناسفة كانت تستهدف آليات الجيش أثناء مرورها", False),
    ("Army vehicles were involved in a traffic accident while travelling to Kut.", False),
    # ... or on their way somewhere
    ("Coalition trucks en route to Ain al-Asad were hit by an IED near Rutba.", True),
    ("Unknown men torched three fuel tankers bound for a US base near Rutba.", True),
    ("عجلات للتحالف في طريقها إلى قاعدة حرير تعرضت لانفجار عبوة", True),
    ("Gunmen torched the fuel tankers at a petrol station in Basra.", False),
    ("Aid trucks heading to Sinjar were shelled near the town.", False),
    ("سيارات متجهة إلى بغداد تعرضت لانفجار عبوة ناسفة قرب التاجي", False),
    ("شاحنات متجهة إلى الحدود السورية توقفت بسبب هجوم على قاعدة عين الأسد", False),
    # a rising casualty toll is a follow-up report, a rising count of attacks a trend
    ("ارتفاع عدد ضحايا الهجوم على رتل الجيش قرب بيجي إلى ثلاثة", True),
    ("Officials reported a rise in the death toll from the IED attack on the army convoy near Baiji.", True),
    ("ارتفاع عدد الهجمات على أرتال الدعم اللوجستي خلال الشهر الماضي", False),
    ("A rise in IED attacks on supply convoys worries the contractors.", False),
    # Iraqi dialect denials and نفى with an object pronoun; ماكو alone is no denial
    ("ماكو صحة لخبر استهداف رتل بالعبوة قرب الحلة", False),
    ("الخبر عن تفجير رتل التحالف بالسماوة مو صحيح", False),
    ("انتشر خبر عن تفجير رتل للتحالف قرب الكوت لكن قائد الشرطة نفاه", False),
    ("انفجرت عبوة برتل التحالف قرب الرمادي وماكو لا شهيد ولا جريح", True),
    ("Police said nothing happened to the coalition convoy near Kut despite reports of a blast.", False),
    # a round-up's nil entry on convoys; not "the first after weeks with no attacks on convoys"
    ("Weekly round-up: nothing on convoys, three rocket attacks on bases near Baghdad.", False),
    ("Zero attacks on supply convoys this week, one IED hit a police car in Kut.", False),
    ("لا شيء على الأرتال هذا الأسبوع، وصاروخان على قاعدة عين الأسد", False),
    ("لم تسجل أي هجمات على أرتال الدعم اللوجستي خلال هذا الأسبوع", False),
    ("An IED struck a US convoy near Kut, the first in a month with no strikes on convoys.", True),
    # an analyst's count, quarters of a year, a drop or a surge in attacks
    ("By my count, IED strikes on coalition convoys fell in the second half of the year.", False),
    ("Roadside bomb attacks on logistics convoys in Q3 2022 were half those of Q2 2022.", False),
    ("There was a sharp drop in IED attacks on supply convoys across the south.", False),
    ("IED strikes on supply convoys dropped by a third last year.", False),
    ("هجمات العبوات على أرتال الدعم اللوجستي في الربع الأخير من عام 2021 كانت الأعلى", False),
    ("حسب إحصائنا استهدفت العبوات أرتال التحالف مرات أقل هذا العام", False),
    # attacks on bases (plural), pylons and a house, with the attack noun's article
    ("وصول رتل تعزيزات إلى الخالص بعد الهجوم على منزل مختار القرية", False),
    ("Three drone attacks on bases in Iraq while convoys moved normally.", False),
    ("An IED on a power pylon near Tarmiyah cut the power as a convoy passed.", False),
    ("استهداف أبراج الطاقة بعبوات ناسفة قرب الطارمية تزامناً مع مرور رتل للجيش", False),
    ("Rockets hit a coalition convoy heading to the base near Balad.", True),
    ("بعد الهجوم على رتل للتحالف قرب الحلة انفجرت عبوة ثانية بالرتل نفسه", True),
    # neighbours: the Iraqi passive انضرب and loanword كونفوي, حوضيات tankers, a caravan of
    # trucks, the load's verbs (not تحمل "holds responsible", not an ammunition depot)
    ("انضرب رتل امريكاني بعبوة بطريق المطار الصبح", True),
    ("انضرب الكونفوي الامريكي بالرشاشات قرب ابو غريب", True),
    ("طگت عبوة بالكونفوي قرب التاجي", True),
    ("الكونفوي الامريكي عبر من السيطرة بدون مشاكل", False),
    ("استهداف حوضيات تنقل الوقود للقوات الأمريكية بعبوة ناسفة قرب الزبير", True),
    ("Gunmen opened fire on trucks laden with coalition supplies near Rutba.", True),
    ("A caravan of fuel trucks was hit by an IED near Baiji.", True),
    ("A caravan of pilgrims was hit by a sandstorm near Karbala.", False),
    ("Insurgents fired rockets at lowboys hauling armoured vehicles near Taji.", True),
    ("انفجار مخزن للعتاد في قاعدة الصقر وتضرر عدد من الشاحنات المتوقفة", False),
    ("An ammunition depot exploded at the base, damaging several parked trucks.", False),
    ("شاحنات تحمل مساعدات إنسانية تعرضت لإطلاق نار قرب سنجار", False),
    ("تحمل الحكومة الجهات المسؤولة عن استهداف الشاحنات على الطريق الدولي", False),
    ("Police said trucks carrying fuel were hit by a tyre blowout", False),
    ("The convoy had a burst tire near Kut and an explosion was heard.", False),
]


@pytest.mark.parametrize(("text", "relevant"), BLIND13_PHENOMENA)
def test_blind13_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind13 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


def test_relevance_is_exact_on_the_fourteenth_blind_corpus(shipped: RuleSet) -> None:
    """holdout_blind14 (error-analysed, so no longer blind) keeps relevance P = R = 1.0."""
    report = evaluate_records(shipped, _records("holdout_blind14.jsonl"))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


# The language behind the blind14 errors, in sentences of our own (none is from a corpus).
BLIND14_PHENOMENA = [
    # vehicles said to move in a column are a convoy; a newspaper column is not
    ("Peshmerga vehicles moving in a column near Kirkuk were ambushed by gunmen on Friday.", True),
    ("Army trucks travelling in single file were hit by a roadside bomb outside Baiji.", True),
    ("Coalition vehicles driving in a long column came under rocket fire near Rutba.", True),
    ("Writing in a column for a Baghdad daily, he recalls how a roadside bomb killed his cousin.", False),
    ("Army vehicles moving in a column crossed the bridge at Tikrit without incident.", False),
    # counts in the hundreds are a tally, not one attack; a dated weekly list is a roundup
    ("The region saw hundreds of roadside-bomb attacks on supply convoys last year.", False),
    ("شهد العام الماضي مئات الهجمات بالعبوات على أرتال الدعم اللوجستي", False),
    ("More than a hundred IED incidents targeted logistics columns in 2020, the report says.", False),
    ("A roadside bomb hit a supply convoy near Hillah, wounding a hundred-year-old bystander.", True),
    # intelligence or warnings of attacks yet to come are not an attack; a planned attack carried out is
    ("All convoys on the southern route are halted after intelligence of imminent attacks.", False),
    ("Movement of client convoys paused following warnings of planned IED attacks.", False),
    ("إيقاف حركة الأرتال على الطريق الدولي بعد ورود معلومات عن هجمات مخطط لها", False),
    ("In a carefully planned attack, an IED struck a coalition convoy near Diwaniyah.", True),
    # calls to step up attacks are calls, not attacks; a reply to an escalation is a claim
    ("بيان: على الفصائل تكثيف الهجمات على أرتال المحتل", False),
    ("ندعو المجاهدين إلى تصعيد العمليات ضد قوافل الاحتلال", False),
    ("The statement urged the factions to escalate attacks on US convoys.", False),
    ("رداً على تصعيد الاحتلال استهدفنا رتلاً للتحالف بعبوة ناسفة في الحلة", True),
    # a film or drama about a convoy tells a story; a video of an attack is a report
    ("فيلم جديد بعنوان الكمين يروي قصة رتل في حرب الثمانينات", False),
    ("A new film titled Convoy tells the story of an ambush on a supply column in 2005.", False),
    ("مسلسل رمضاني يجسد كمين رتل في الصحراء", False),
    ("فيديو يظهر لحظة انفجار عبوة ناسفة على رتل للتحالف قرب الرمادي", True),
]


@pytest.mark.parametrize(("text", "relevant"), BLIND14_PHENOMENA)
def test_blind14_phenomena(shipped: RuleSet, text: str, relevant: bool) -> None:
    """Each language phenomenon found on blind14 is read as intended, both ways."""
    assert shipped.classify(text).relevant is relevant


SUPPLY_TRUCKS = [
    # trucks named by their load or service, hit: a supply convoy in all but name
    ("An IED struck coalition supply trucks near Taji.", True),
    ("IED strikes on coalition supply trucks near Taji overnight.", True),
    ("عبوة ناسفة تستهدف شاحنات إمداد للتحالف قرب التاجي", True),
    ("استهداف شاحنات الإمداد بعبوة ناسفة في الرمادي", True),
    ("Gunmen fired on logistics trucks bound for Ain al-Asad.", True),
    # not hit, or not close: a road they use, a device defused, aid, a warning
    (
        "A Katyusha rocket fell on farmland near Abu Ghraib last night, a few kilometres from the"
        " highway used by coalition supply trucks.",
        False,
    ),
    ("Supply trucks queued at the border crossing after an IED was defused nearby.", False),
    ("Aid supply trucks reached Mosul.", False),
    ("The attack on supply trucks could come any time, officials warned.", False),
    # a headline's present tense of "dismantle": a device defused, not an attack
    ("قوات الأمن تفكك عبوة ناسفة على طريق تسلكه الأرتال في الفلوجة", False),
    ("مفارز الجهد الهندسي تفكك عبوتين قرب طريق مرور الأرتال", False),
    ("انفجار عبوة ناسفة استهدفت رتلاً للتحالف قرب الفلوجة", True),
    # trucks said to be the coalition's, attacked; not trucks parked inside a base that is hit
    ("Supply trucks belonging to the coalition were torched by gunmen near Rutba.", True),
    ("مجهولون يحرقون شاحنات تابعة للتحالف قرب الرطبة", True),
    ("US military trucks were hit by a roadside bomb near Balad.", True),
    ("صواريخ تسقط على قاعدة بلد وتلحق أضراراً بشاحنات التحالف المتوقفة داخلها", False),
    ("Rockets hit the base, damaging coalition trucks parked inside.", False),
    ("Coalition trucks crossed the border at Rabia.", False),
    ("Police arrested a man who attacked coalition trucks last year.", False),
]


@pytest.mark.parametrize(("text", "relevant"), SUPPLY_TRUCKS)
def test_supply_trucks_hit_close_by_are_a_convoy_attack(shipped: RuleSet, text: str, relevant: bool) -> None:
    """'Supply trucks' hit by a weapon named within four words are reported; otherwise not."""
    assert shipped.classify(text).relevant is relevant


ANOTHER_DEVICE = [
    # a convoy struck, and in the same sentence another device found or defused: the strike stands
    (
        "An IED hit a supply convoy near Nasiriyah hours after police defused another device on the road.",
        True,
    ),
    ("A roadside bomb struck a coalition convoy, a day after another IED was defused nearby.", True),
    ("انفجار عبوة على رتل بعد ساعات من تفكيك عبوة أخرى", True),
    ("استهدف رتل للدعم اللوجستي بعبوة ناسفة في الديوانية فيما فككت القوات الأمنية عبوة ثانية", True),
    # the other device alone, one meant for convoys, or an earlier attack named in passing: nothing struck
    ("Police defused another device planted on the road used by coalition convoys.", False),
    ("Security forces dismantled a second IED meant to target a supply convoy.", False),
    ("بعد تفكيك عبوة أخرى كانت معدة لاستهداف رتل", False),
    (
        "Engineers defused a second bomb found under a truck in a convoy, days after an attack on the road.",
        False,
    ),
    ("Police defused another device near Hit, a town on the route of coalition convoys.", False),
]


@pytest.mark.parametrize(("text", "relevant"), ANOTHER_DEVICE)
def test_a_strike_beside_another_device_defused_is_still_an_attack(
    shipped: RuleSet, text: str, relevant: bool
) -> None:
    """The defusing word of a second device does not undo the strike on the convoy."""
    assert shipped.classify(text).relevant is relevant
