"""Names and free-text places, found by context rules over the census and place lexicons.

Rules, each a way names show up in notes:

- after a title: `Dr. Healey`, `dr vasquez`, `MR. EDWIN PRZYBYLO`, `Drs Ferullo and Saeed`;
- after a relation: `husband Rich Martino`, `daughter Thelma`, `son, dave,`;
- before a credential: `Patricia Nolan, RN`, `Q. LANDER RRT`, `DAN A. FORMAN-LYONS, RRT`;
- a first name followed by a last name from the census lists, neither a common English word;
- in mixed-case notes, a capitalised rare word that is a census name and not a medical word;
- places: a city or state after `lives in`/`from`/`to`/`at`..., and facility names (patterns);
- every other occurrence in the note of a word found as a name by the rules above.

"Common" is `wordfreq`'s Zipf frequency; "medical word" is any word of an ICD-10-CM title (so
`Parkinson`, `Hodgkin`, `Crohn` are not taken for patients).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .lexicon import lexicons, zipf

TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[^\s\w]|_")


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


# marks token `i` as found by `rule`
Marker = Callable[[int, str], None]


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


TITLES = frozenset(
    """dr doctor drs mr mrs ms miss mister madam sir dra prof professor rev father sister""".split()
)
_RELATION_WORDS = frozenset(
    """husband wife son sons daughter daughters dtr dau sister sisters brother brothers bro mother mom
    father dad parents parent niece nephew aunt uncle cousin grandson granddaughter grandmother
    grandfather grandma grandpa friend friends neighbor neighbour fiance fiancee spouse partner
    boyfriend girlfriend proxy hcp guardian sil dil stepdaughter stepson child children family pt's
    patient's inlaw in-law""".split()
)

# Not "PT", "PA", "MS", "DO", "RT": in notes they are the patient, the pulmonary artery, mental status...
CREDENTIALS = frozenset(
    """rn md np rrt crt slp msw licsw lcsw crna cna lpn pharmd rph phd bsn msn aprn fnp acnp cnm""".split()
)
RELATIONS = _RELATION_WORDS | frozenset(
    ["caseworker", "cm", "sw", "nurse", "np", "resident", "attending", "fellow"]
)
PLACE_CUES = frozenset(["in", "from", "to", "at", "near"])
TRANSFER_CUES = frozenset(["to", "from", "at", "into", "@", "by", "the"])
# Where patients go that is not a named place.
CLINICAL_PLACES = frozenset(
    """icu ccu micu sicu nicu picu csru pacu or er ed ew cath lab floor rehab home vent ct mri ir us ekg
    echo ward unit room bed bedside hospital hosp clinic snf nursing dialysis hd endo gi pt ot bathroom
    chair commode radiology xray cxr surgery stepdown tele telemetry hospice shelter family work
    baseline recovery postanesthesia operating intensive holding preop postop procedure endoscopy""".split()
)
# Nursing shorthand that census lexicons hold as names ("Aline" is an A-line, "Levo" levophed).
CLINICAL_WORDS = frozenset(
    """aline paline alines levo neo vanco lasix endo resp cont cath tele vent sputum bair hickman foley
    swan picc ngt ogt ett trach peg lr ns prn tol neuro cardiac pulm renal heme skin social dispo plan
    awake alert await abd bs lbm sbp dbp map cvp pad pcwp ci co svr hr rr sat sats temp tmax gleason
    specimen specimens pathologic pathological margin margins grade stage tumor tumour carcinoma
    adenocarcinoma diagnosis final gross microscopic clark breslow nottingham bloom richardson ki her er pr
    addendum comment note impression history exam assessment min abg abgs labs hct psv fent dobut dopa
    dilt ntg crea cv oob pacer rij eve clears mae verbal given care hemodynamics
    bovie allis penrose ochsner scarpa scarpa's heaney shiley bookwalter lahey kling kocher westcott mcivor
    pfannenstiel freer farlow kitner portnoy hasson metzenbaum mayo kelly babcock deaver weitlaner gelpi
    adson debakey jackson pratt hemovac blake vicryl prolene monocryl ethibond dexon chromic xeroform
    tegaderm mastisol dermabond steri trendelenburg fowler sims lloyd davies allegra langenbeck senn
    army navy yankauer frazier kerrison leksell cobb hohmann bennett mclaughlin doppler swan ganz
    osh bb vicu micu sicu ccu csru pcu angio afib aflutter svt rca lad lcx nsr raf pace wean bear hugger
    spont colace cipro milrinone quinton""".split()
)
# Hospitals known by their initials (a named hospital, unlike OSH, the outside hospital): a place after
# "to", "at", "from"
HOSPITAL_ACRONYMS = frozenset(
    """gh mgh bwh bmc jhh jhmc ummc umms bidmc nemc ucsf ucla nyu upmc mcv vcu ohsu uwmc bch chop
    cchmc mskcc mdacc gbmc""".split()
)
NAME_VERBS = frozenset(
    """called calls phoned visited visiting visits reports reported states stated aware updated came
    requested asked spoke agrees agreed notified wants wanted feels says said""".split()
)
# Verbs that follow a first name as often as a noun: only a name rarer than a common word counts
WEAK_NAME_VERBS = frozenset("""is was does did has had will would""".split())
NAME_PREPS = frozenset("""with page paged per called notified contacted""".split())
MICROBES = frozenset(
    """coli diff difficile aureus pylori aeruginosa pneumoniae influenzae epidermidis faecalis faecium
    albicans glabrata marcescens cloacae mirabilis maltophilia baumannii catarrhalis epi epidermidis
    jirovecii carinii auris fumigatus neoformans lugdunensis viridans""".split()
)
MOVE_CUES = re.compile(
    r"(?i)\b(?:transfer\w*|trans|tx'?d|xfer\w*|admit(?:ted)?|adm|came|come|coming|presented|sent|go(?:ing)?|"
    r"went|d/c'?d|discharged?|returned?|return|arrived?|screened|accepted|followed|seen|transported|referred|"
    r"bed|placement|enroute|en route|taken|brought|w/u|evaluated|outpatient)\b"
)
LIVES_CUES = re.compile(
    r"(?i)\b(?:lives|living|lived|resides|home|moved|born|raised|vacation|vacationing|trip)\b"
)
# Words that follow a title or relation but are not names ("dr aware", "daughter in to visit").
NOT_NAMES = frozenset(
    """aware notified called paged here in at to and or of on with for the a an is was will be by from has
    had have team service office note notes order orders plan re regarding who that this visit visited
    visiting states stated said says wants feels spoke updated present yesterday today tonight tomorrow
    am pm hcp proxy also both all other another several two three none one""".split()
)


@functools.cache
def _title_words() -> tuple[frozenset[str], frozenset[str]]:
    """Words of ICD-10-CM titles (from the shipped term index): those written in lower case somewhere
    (medical words), and those only ever capitalised after a title's first word (eponyms: Hodgkin,
    Parkinson, Anderson-Fabry), which are names as often as diseases."""
    from ..resources import open_text

    lower: set[str] = set()
    capital: set[str] = set()
    with open_text("vocab:icd10cm_terms.tsv.gz") as handle:
        for line in handle:
            if line.startswith("T\t"):
                words = re.findall(r"[A-Za-z]{3,}", line.split("\t", 2)[2])
                for position, word in enumerate(words):
                    if word.islower():
                        lower.add(word)
                    elif position > 0 and word[0].isupper() and word[1:].islower():
                        capital.add(word.lower())
    return frozenset(lower), frozenset(capital - lower)


def medical_words() -> frozenset[str]:
    """Lower-case words of ICD-10-CM titles."""
    return _title_words()[0]


def eponyms() -> frozenset[str]:
    return _title_words()[1]


@functools.cache
def _facility_lexicon() -> re.Pattern[str]:
    from ..resources import open_text

    with open_text("vocab:deid_facilities.txt") as handle:
        phrases = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    alternatives = sorted(
        (re.escape(p).replace("\\ ", r"\s+").replace("st\\s+", r"st\.?\s+") for p in phrases),
        key=len,
        reverse=True,
    )
    return re.compile(r"(?i)\b(?:" + "|".join(alternatives) + r")\b")


def facility_phrases(text: str) -> Iterator[tuple[int, int]]:
    """Spans of hospital and facility names from `vocab/deid_facilities.txt`."""
    for match in _facility_lexicon().finditer(text):
        yield match.span()


def is_mixed_case(text: str) -> bool:
    """Does capitalisation mean something in this note (not all upper, not all lower case)?"""
    letters = [c for c in text[:20000] if c.isalpha()]
    return 0.02 < sum(c.isupper() for c in letters) / max(1, len(letters)) < 0.6


def _base(word: str) -> str:
    low = word.lower()
    if low.endswith("'s"):
        return low[:-2]
    return low.replace("'", "") if "'" in low else low  # O'Brien is "obrien" in the census lists


def _is_first(word: str) -> bool:
    return _base(word) in lexicons().first


def _is_last(word: str) -> bool:
    return _base(word) in lexicons().last


def _rare_word(word: str, below: float) -> bool:
    """A word rarer than `below` (Zipf) that is not a medical word, nursing shorthand or a cue word."""
    base = _base(word)
    return (
        zipf(base) < below
        and base not in medical_words()
        and base not in CLINICAL_WORDS
        and base not in NOT_NAMES
        and base not in TITLES
        and base not in CREDENTIALS
        and base not in RELATIONS
    )


def _namelike(word: str, *, strict: bool) -> bool:
    """Could `word` be (part of) a name? `strict` asks more of a word than a title or relation does."""
    base = _base(word)
    if not word[:1].isalpha() or base in NOT_NAMES or len(base) < 2 and not word.isupper():
        return False
    if base in TITLES or base in CREDENTIALS or base in RELATIONS:
        return False
    common = zipf(base)
    if strict:
        return (_is_first(word) or _is_last(word)) and common < 4.5 and base not in medical_words()
    # after a title, before a credential: context says name, so medical eponyms (White, Jones) are allowed
    return common < 4.5 or ((_is_first(word) or _is_last(word)) and common < 5.8)


def _next_words(tokens: list[Token], i: int, limit: int, skip: str = ".,:(-") -> Iterator[int]:
    """Indexes of up to `limit` word tokens after `i`, stepping over the punctuation in `skip`."""
    j, taken = i + 1, 0
    while j < len(tokens) and taken < limit:
        text = tokens[j].text
        if text in skip:
            j += 1
            continue
        if not text[:1].isalpha():
            return
        yield j
        taken += 1
        j += 1


STRONG_RULES = ("title", "relation", "credential", "initial", "joined", "name_verb", "name_prep")
WEAK_RULES = ("pair", "capital", "relation_rare")
PLACE_RULES = ("city", "transfer", "facility", "ward", "hospital_acronym")
ALL_RULES = (*STRONG_RULES, *WEAK_RULES, *PLACE_RULES, "propagated")


@dataclass
class RuleHits:
    """Which rules fired on which token of a note: the rules' decisions, and the learned layer's input."""

    tokens: list[Token]
    mixed_case: bool
    flags: dict[int, set[str]]
    # names the context settles even where the word is nursing shorthand too ("Dr. Foley", "Bernard
    # Foley CRT"): kept although the word is in CLINICAL_WORDS
    sure: set[int] = field(default_factory=set)

    def with_rule(self, *rules: str) -> set[int]:
        return hits_of(self.flags, *rules)


def rule_hits(text: str) -> RuleHits:
    """Run every name and place rule over `text`, recording each hit with the rule that made it."""
    tokens = tokenize(text)
    mixed_case = is_mixed_case(text)
    flags: dict[int, set[str]] = {}
    lows = [t.text.lower() for t in tokens]

    strong: set[int] = set()
    sure: set[int] = set()

    def mark(i: int, rule: str) -> None:
        flags.setdefault(i, set()).add(rule)
        if rule in STRONG_RULES:
            strong.add(i)

    def found() -> set[int]:
        return strong

    for i in range(len(tokens)):
        low = lows[i].rstrip(".")
        if low in ("ms", "mr", "mrs") and i + 1 < len(tokens) and tokens[i + 1].text != ".":
            # "MS worsening" is mental status: without the dot, only a census name, a capital, an
            # initial with its dot ("MS S. CARE") or, after Mr/Mrs, a rare word ("MRS BRUCER") counts
            nxt = tokens[i + 1].text
            initial = len(nxt) == 1 and nxt.isupper() and i + 2 < len(tokens) and tokens[i + 2].text == "."
            rare = low != "ms" and len(nxt) > 2 and nxt.isalpha() and _rare_word(nxt, 2.5)
            if not (
                _is_first(nxt)
                or _is_last(nxt)
                or initial
                or rare
                or (mixed_case and nxt[:1].isupper() and lows[i] != "ms")
            ):
                continue
        if low == "ms" and i > 0 and lows[i - 1] in ("in", "of", "and", "intact", "altered", "changes"):
            continue  # "changes in MS. Aspiration precautions": mental status
        if low in TITLES or low == "drs":
            # Dr. Healey / MR. EDWIN PRZYBYLO / Dr. L. Ruuska / Drs Ferullo and Saeed
            # "MS:" is mental status, not Ms.: after a title only a dot may come before the name
            for n, j in enumerate(_next_words(tokens, i, 3 if low == "drs" else 2, skip=".")):
                word = tokens[j].text
                if lows[j] == "and" and low == "drs":
                    continue
                if n > 0 and tokens[j - 1].text == "." and len(tokens[j - 2].text) > 1:
                    break  # "Dr. Vasquez. Await PT eval": a full stop after a name ends it
                doctor = low in ("dr", "drs", "doctor")
                if (
                    n == 0
                    and (
                        len(word) == 1
                        or _namelike(word, strict=False)
                        or (
                            doctor
                            and word.isalpha()
                            and (
                                (mixed_case and word[:1].isupper() and lows[j] not in ("the", "and"))
                                or (lows[j] not in NOT_NAMES and zipf(lows[j]) < 6.0)
                            )
                        )
                    )
                    or n > 0
                    and (
                        len(word) == 1
                        or _namelike(word, strict=True)
                        or (mixed_case and word[:1].isupper() and _namelike(word, strict=False))
                    )
                ):
                    mark(j, "title")
                    if doctor and n == 0 and lows[j] in CLINICAL_WORDS and word[:1].isupper():
                        sure.add(j)
                else:
                    break
        if low in RELATIONS:  # also "sister", a title too: "SISTER ,JANET HAS PHONED"
            for n, j in enumerate(_next_words(tokens, i, 2, skip=",:(-")):
                word = tokens[j].text
                if lows[j] in RELATIONS or lows[j] in TITLES:
                    break
                if low == "cm" and i > 0 and tokens[i - 1].text.isdigit():
                    break  # "secured at the 24 cm mark": centimetres, not the case manager
                if (
                    len(word) > 3
                    and (_rare_word(word, 3.0) or n == 0 and _is_last(word) and _rare_word(word, 4.0))
                    and not (_is_first(word) and zipf(_base(word)) < 5.5)
                    and not (n > 0 and _namelike(word, strict=True))
                ):
                    # "husband milovan", "BROTHER VINNY", "SISTER,CARROLL ANNE": a rare word, or a word
                    # too (a misspelling, "son and husband visisted"): the learned layer weighs it
                    mark(j, "relation_rare")
                    continue
                if mixed_case and word.isupper() and len(word) <= 4:
                    break  # "Pt's WBC", "two children PTA": an acronym
                if (
                    (_is_first(word) and zipf(_base(word)) < 5.5 and lows[j] not in NOT_NAMES)
                    or (n > 0 and _namelike(word, strict=True))
                    or (
                        mixed_case
                        and word[:1].isupper()
                        and n == 0
                        and zipf(_base(word)) < 3.5
                        and _base(word) not in medical_words()
                    )
                ):
                    mark(j, "relation")
                else:
                    break
        if low in CREDENTIALS and i + 1 < len(tokens):
            # NP DJURIC MADE AWARE, RN Foley: a credential as a title, before a rare or census name
            j = i + 1
            word = tokens[j].text
            if (
                word.isalpha()
                and len(word) > 2
                and "\n" not in text[tokens[i].end : tokens[j].start]
                and lows[j] not in NOT_NAMES
                and (
                    ((_is_first(word) or _is_last(word)) and _rare_word(word, 4.0))
                    or (mixed_case and word[:1].isupper() and word[1:].islower() and _rare_word(word, 3.0))
                )
            ):
                mark(j, "title")
        if low in CREDENTIALS and i > 0 and (tokens[i - 1].text == "," or tokens[i - 1].text[:1].isalpha()):
            # Patricia Nolan, RN / Q. LANDER RRT: walk back over up to three name words and initials
            j, taken = i - 1, 0
            while j >= 0 and taken < 4:
                word = tokens[j].text
                # a comma just before the credential, an initial's dot, a hyphen inside a name; not a
                # full stop ("EXPIRATORY WHEEZES. JON DEVAUX RRT")
                glued = (
                    j > 0 and tokens[j - 1].end == tokens[j].start and tokens[j].end == tokens[j + 1].start
                )
                if (
                    (word == "," and j == i - 1)
                    or (word == "." and j > 0 and len(tokens[j - 1].text) == 1)
                    or (word == "-" and glued)
                ):
                    j -= 1
                    continue
                if not word[:1].isalpha() or "\n" in text[tokens[j].end : tokens[j + 1].start]:
                    break
                rare = zipf(_base(word)) < 3.0 and _base(word) not in medical_words()
                # an initial has its dot ("Q. LANDER RRT"; not "4L NP", nasal prongs); a census name
                # must not be a common word ("TIMES MD AWARE", "STRONG NP COUGH")
                initial = len(word) == 1 and tokens[j + 1].text == "."
                # NP and MD are nasal prongs and "MD aware" as often: only an uncommon name before them
                common = 4.5 if low in ("np", "md") else 5.0
                if (
                    initial
                    or (rare and len(word) > 1 and low not in ("np", "md"))
                    or (_is_first(word) or _is_last(word))
                    and zipf(_base(word)) < common
                    and _namelike(word, strict=False)
                ):
                    mark(j, "credential")
                    if mixed_case and word[:1].isupper() and word[1:].islower() and lows[j] in CLINICAL_WORDS:
                        sure.add(j)
                    taken += 1
                    j -= 1
                else:
                    break

    for i in range(len(tokens) - 1):
        a, b = tokens[i].text, tokens[i + 1].text
        # First Last: a census first name, then a census last name or a rare word ("Irene Czyzewicz")
        if (
            len(a) > 2
            and len(b) > 2
            and a.isalpha()
            and b[:1].isalpha()
            and lexicons().first.get(_base(a), 1.0) < 0.3
        ):
            zb = zipf(_base(b))
            second = (_namelike(b, strict=True) or zb < 2.5) and _base(b) not in medical_words()
            capitalised = a[:1].isupper() and a[1:2].islower() and b[:1].isupper()
            # a surname among the census' commonest may be a word too (Carey, Young): a little rarer
            # than the others is enough
            common_surname = lexicons().last.get(_base(b), 1.0) < 0.05 and zb < 4.0
            if second and (
                (mixed_case and capitalised and zipf(_base(a)) < 5.0)
                or (zipf(_base(a)) < 5.0 and (zb < 3.5 or common_surname))
            ):
                mark(i, "pair")
                mark(i + 1, "pair")
        if (
            (
                mixed_case
                and i > 0
                and a[:1].isupper()
                and a[1:2].islower()
                and tokens[i - 1].text not in ".!?\n:"
            )
            and _namelike(a, strict=True)
            and zipf(_base(a)) < 3.0
        ):
            mark(i, "capital")

    for i in range(len(tokens) - 2):
        a, dot, b = tokens[i].text, tokens[i + 1].text, tokens[i + 2].text
        # W. MAROTTA, d. renna: an initial, a dot, a census surname (not "E. coli", not "20's. ABG")
        after_space = i == 0 or tokens[i].start > tokens[i - 1].end or tokens[i - 1].text in "(,-"
        if len(a) == 1 and a.isalpha() and after_space and dot == "." and len(b) > 2 and b[:1].isalpha():
            base = _base(b)
            known = _is_last(b) and zipf(base) < 4.0 and base not in medical_words()
            # a rare word after an initial, but not after the letters of a SOAP note or a side
            # ("A. SEPSIS", "P. ANTIBX", "R. mainstem")
            rare = _rare_word(b, 2.0) and a.upper() not in "SOAPRL" and a.isupper()
            if (known or rare) and base not in MICROBES:
                mark(i, "initial")
                mark(i + 2, "initial")
        # Dr Camarda and Clifford: a second name joined to a found one
        joined = (
            "joined" not in flags.get(i, ())
            and i in found()
            and lows[i + 1] in ("and", "&", "or")
            and _namelike(b, strict=True)
        )
        if joined and lows[i + 2] not in CLINICAL_WORDS:
            mark(i + 2, "joined")
    for i, token in enumerate(tokens):
        word = token.text
        if not word[:1].isalpha() or len(word) < 3 or not _is_first(word) or zipf(lows[i]) >= 5.3:
            continue
        if mixed_case and not word[:1].isupper():
            continue
        before = lows[i - 1] if i > 0 else ""
        after = lows[i + 1] if i + 1 < len(tokens) else ""
        # "bob visited", "Emily reports", "spoke with suzette", "ask to page Suzette"
        if lows[i] in medical_words() or lows[i] in CLINICAL_WORDS or lows[i] in eponyms():
            continue
        if after in NAME_VERBS or (after in WEAK_NAME_VERBS and zipf(lows[i]) < 5.2):
            mark(i, "name_verb")
        elif (
            i + 2 < len(tokens)
            and lows[i + 2] in NAME_VERBS
            and tokens[i + 1].text.isalpha()
            and len(tokens[i + 1].text) > 2
            and _rare_word(tokens[i + 1].text, 2.5)
        ):
            mark(i, "name_verb")  # "BEA TURA AWARE": a first name, a rare surname, a verb
            mark(i + 1, "name_verb")
        elif before in NAME_PREPS and zipf(lows[i]) < (5.2 if before == "per" else 4.5):
            mark(i, "name_prep")

    # places: "lives in Catonsville", "transfer to Baltimore", "from San Diego", "to Sacred Heart"
    lex = lexicons()
    for i, token in enumerate(tokens):
        low = lows[i]
        two = f"{low} {lows[i + 1]}" if i + 1 < len(tokens) else ""
        before = lows[i - 1] if i > 0 else ""
        lives = LIVES_CUES.search(text[max(0, token.start - 30) : token.start])
        if two in lex.cities and before in PLACE_CUES:
            mark(i, "city")
            mark(i + 1, "city")
        elif low in lex.cities or low in lex.states and len(low) > 2:
            shaped = token.text[:1].isupper() if mixed_case else zipf(low) < 4.8
            if before in PLACE_CUES and (
                lives or (shaped and zipf(low) < 4.8 and low not in medical_words())
            ):
                mark(i, "city")
        elif (
            before in TRANSFER_CUES
            and low not in CLINICAL_PLACES
            and token.text.isalpha()
            and MOVE_CUES.search(text[max(0, token.start - 40) : token.start])
        ):
            # "transfer to GH", "from kernan", "presented to Quartermain 3": a rare word or an acronym
            # in a mixed-case note a place name is capitalised; elsewhere it must at least be rare
            rare = not mixed_case and zipf(low) < 3.3 and low not in medical_words()
            acronym = token.text.isupper() and 2 <= len(token.text) <= 5 and mixed_case
            capital = (
                mixed_case and token.text[:1].isupper() and zipf(low) < 4.8 and low not in medical_words()
            )
            if rare or acronym or capital:
                mark(i, "transfer")
        # "lives nearby in rockport", "lives in DC": a rare word or a state code after "in"
        rare_place = (len(low) > 3 and _rare_word(low, 3.0)) or (low in lex.states and token.text.isupper())
        if lives and before in PLACE_CUES and token.text.isalpha() and rare_place:
            mark(i, "city")
        if low in ("u", "univ", "university") and i + 1 < len(tokens):
            # "U Maryland scale", "University of Iowa": a university named by its state
            j = i + 2 if lows[i + 1] == "of" and i + 2 < len(tokens) else i + 1
            if lows[j] in lex.states and len(lows[j]) > 2:
                for k in range(i, j + 1):
                    mark(k, "facility")
        if (
            low in HOSPITAL_ACRONYMS
            and (before in PLACE_CUES or before in (">", "@"))
            and token.text.isalpha()
        ):
            mark(i, "hospital_acronym")  # "medflight to GH", "ARRIVAL TO GH", "she had at gh"
        if _ward(text, tokens, i):
            mark(i, "ward")
            if tokens[i + 1].start == token.end:  # QUARTERMAIN7: the number is part of the name
                mark(i + 1, "ward")
    for start, end in facility_phrases(text):
        for i, t in enumerate(tokens):
            if t.start < end and t.end > start:
                mark(i, "facility")

    _family_and_signature(text, tokens, lows, mark)
    _extend_names(text, tokens, lows, mixed_case, found() | hits_of(flags, "pair"), mark)

    # the same word elsewhere in the note is the same name, or the same place
    names_here = {lows[i] for i in found() if len(lows[i]) > 2 and zipf(_base(lows[i])) < 4.0}
    wards_here = {lows[i] for i in hits_of(flags, "ward", "hospital_acronym") if lows[i].isalpha()}
    for i, low in enumerate(lows):
        if low in names_here:
            mark(i, "propagated")
        elif (
            low in wards_here
            and "ward" not in flags.get(i, ())
            and "hospital_acronym" not in flags.get(i, ())
        ):
            mark(i, "ward")
    return RuleHits(tokens, mixed_case, flags, sure)


# Wards and units named after a person or a building, with their number: "transfer to Quartermain 2",
# "Per Blake 7 RN", "admitted to ELLISON12". The word must be rare and not medical; a cue word before it.
_WARD_CUE = re.compile(r"(?i)\b(?:to|from|per|transfer\w*|xfer|tx|admitted|arrived|returned)[\s:]*$")
_WARD_NUMBER = re.compile(
    r"(?i)\s?[1-9]\d?\b(?![.,/:]\d|[%\-'])(?!\s*(?:mg|mcg|g|gm|ml|cc|units?|u|l|mm|cm|hrs?|x|times|days?|bags?|"
    r"amps?|tabs?|doses?|puffs?|ps|peep|with\s+\d)\b)"
)


def _ward(text: str, tokens: list[Token], i: int) -> bool:
    word = tokens[i].text
    if i + 1 >= len(tokens) or len(word) < 4 or not word.isalpha() or not tokens[i + 1].text.isdigit():
        return False
    return (
        bool(_WARD_NUMBER.match(text, tokens[i].end))
        and bool(_WARD_CUE.search(text[max(0, tokens[i].start - 25) : tokens[i].start]))
        and _rare_word(word, 3.0)
    )


def hits_of(flags: dict[int, set[str]], *rules: str) -> set[int]:
    """The tokens on which any of `rules` fired."""
    return {i for i, fired in flags.items() if fired.intersection(rules)}


_PHONE_AFTER = re.compile(
    r"[\s,:\-]*(?:(?:cell|home|work|phone|tel|ph|pager|h|c|w)\b\.?\s*)?(?:#\s*)?(?:[:\-]\s*)?\(?\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}",
    re.IGNORECASE,
)


def _family_and_signature(text: str, tokens: list[Token], lows: list[str], mark: Marker) -> None:
    """Names that a following word or their place in the note gives away: `KEEP ROMERO FAMILY AWARE`
    (a surname before "family"), `Lopie Certusi cell# 410-322-1419` (words before a phone number),
    and a note signed with a first name on its last line (`... NOT 1400U/HR. SUSAN`)."""
    for i in range(len(tokens) - 1):
        word = tokens[i].text
        if lows[i + 1] == "family" and word.isalpha() and _is_last(word) and _rare_word(word, 4.0):
            mark(i, "relation")
        if (
            word[:1].isupper()
            and word.isalpha()
            and len(word) > 2
            and _PHONE_AFTER.match(text, tokens[i].end)
        ):
            # walk back over up to three capitalised rare words on the line
            j = i
            while (
                j >= 0
                and i - j < 3
                and tokens[j].text[:1].isupper()
                and tokens[j].text.isalpha()
                and len(tokens[j].text) > 1
                and _rare_word(tokens[j].text, 3.5)
                and (j == i or "\n" not in text[tokens[j].end : tokens[j + 1].start])
            ):
                mark(j, "relation")
                j -= 1
    last = [k for k, t in enumerate(tokens) if t.text[:1].isalpha()][-4:]
    if last:
        # the last line, or its last sentence: "... NOT 1400U/HR. SUSAN"
        line_start = text.rfind("\n", 0, tokens[last[-1]].start) + 1
        line_start = max(line_start, text.rfind(". ", 0, tokens[last[-1]].start) + 2)
        words = [k for k in last if tokens[k].start >= line_start]
        rest = text[tokens[words[0]].start :].strip() if words else ""
        if (
            words
            and len(words) <= 3
            and re.fullmatch(r"[A-Za-z][A-Za-z'.,\- ]*", rest)
            and _is_first(tokens[words[0]].text)
            and _rare_word(tokens[words[0]].text, 5.0)
            and all(
                lows[k] in CREDENTIALS or len(tokens[k].text) == 1 or _namelike(tokens[k].text, strict=False)
                for k in words
            )
        ):
            for k in words:
                if lows[k] not in CREDENTIALS:
                    mark(k, "credential")


def _extend_names(
    text: str, tokens: list[Token], lows: list[str], mixed_case: bool, found: set[int], mark: Marker
) -> None:
    """A found name takes in the parts joined to it: the other half of a hyphenated name (`dr
    williams-nuzzo`) and a first name just before it (`mary theresa kondouli`, `son: Vladimir
    Erickson`)."""
    for i in sorted(found):
        for a, dash, b in ((i, i + 1, i + 2), (i - 2, i - 1, i)):
            if (
                a >= 0
                and b < len(tokens)
                and tokens[dash].text == "-"
                and tokens[a].end == tokens[dash].start
                and tokens[dash].end == tokens[b].start
                and tokens[a].text.isalpha()
                and tokens[b].text.isalpha()
            ):
                mark(b if a == i else a, "joined")
        j = i - 1
        if j < 0 or j in found or not re.fullmatch(r"[ \t]+", text[tokens[j].end : tokens[i].start]):
            continue
        word = tokens[j].text
        shaped = word[:1].isupper() == tokens[i].text[:1].isupper() if mixed_case else True
        if (
            shaped
            and word.isalpha()
            and len(word) > 2
            and (_is_first(word) or _is_last(word))
            and _rare_word(word, 5.0)
        ):
            mark(j, "joined")


def rule_decisions(hits: RuleHits) -> tuple[set[int], set[int]]:
    """The rules' own verdict: (name tokens, place tokens)."""
    lows = [t.text.lower() for t in hits.tokens]
    places = hits.with_rule(*PLACE_RULES)
    strong = hits.with_rule(*STRONG_RULES, "propagated")
    names = {i for i in strong if lows[i] not in CLINICAL_WORDS or i in hits.sure} | {
        i for i in hits.with_rule(*WEAK_RULES) if lows[i] not in CLINICAL_WORDS and lows[i] not in eponyms()
    }
    return names - places, places


def name_spans(text: str) -> Iterator[tuple[int, int, str]]:
    hits = rule_hits(text)
    names, places = rule_decisions(hits)
    for i in sorted(names):
        yield hits.tokens[i].start, hits.tokens[i].end, "NAME"
    for i in sorted(places):
        yield hits.tokens[i].start, hits.tokens[i].end, "LOCATION"
