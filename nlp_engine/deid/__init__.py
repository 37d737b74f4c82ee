"""De-identification: find PHI in clinical text, then mask, tag or replace it with surrogates.

>>> from nlp_engine.deid import find_phi, redact
>>> [(s.label, s.start, s.end) for s in find_phi("Seen by Dr. Healey on 7/22.")]
[('NAME', 12, 18), ('DATE', 22, 26)]
>>> redact("Seen by Dr. Healey on 7/22.", mode="tag").text
'Seen by Dr. [NAME] on [DATE].'

`find_phi` unites the pattern detectors (`patterns.py`: dates, phones, ids, ages over 89, addresses,
facilities, ...) and names and places: rules (`names.py`, census and GeoNames lexicons) whose hits
feed a trained logistic regression (`learned.py`). Overlapping hits are merged into one span. `redact` (in `surrogate.py`) rewrites the text; its result carries an
audit (counts per label, never the PHI itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..textio import coerce_text

#: Every label `find_phi` can return, with the HIPAA Safe Harbor category it covers.
LABELS = {
    "NAME": "names of patients, relatives, clinicians",
    "DATE": "dates and years (except the year alone where not PHI)",
    "AGE": "ages over 89",
    "PHONE": "telephone, fax and pager numbers",
    "EMAIL": "e-mail addresses",
    "URL": "web addresses",
    "IP": "IP addresses",
    "SSN": "social security numbers",
    "ID": "medical record, account, accession, specimen, device and other identifying numbers",
    "ADDRESS": "street addresses",
    "ZIP": "ZIP codes",
    "LOCATION": "cities, states, hospitals, clinics and other named places",
}
# When two hits overlap, the merged span takes the label of the more specific detector.
_PRIORITY = ["EMAIL", "URL", "IP", "SSN", "PHONE", "ID", "ADDRESS", "ZIP", "AGE", "DATE", "NAME", "LOCATION"]


_NAME_GAP = re.compile(r"[ \t]?[\-.'][ \t]?|[ \t]")


@dataclass(frozen=True)
class PhiSpan:
    start: int
    end: int
    label: str

    def to_dict(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "label": self.label}


#: Probability above which the learned layer calls a word part of a name or place (chosen by
#: cross-validation for recall; see docs/benchmarks.md).
THRESHOLD = 0.05


def find_phi(
    text: str | bytes, *, learned: bool = True, model: Any = None, threshold: float = THRESHOLD
) -> list[PhiSpan]:
    """PHI spans in `text`, sorted, not overlapping; offsets are into `text` (bytes are decoded first).

    Names and places come from the learned layer (`learned.py`, over the rules' hits) unless
    `learned=False`, which uses the rules' own verdict; `model` replaces the shipped model."""
    from .learned import learned_spans
    from .names import name_spans
    from .patterns import pattern_spans

    text = coerce_text(text)
    patterns = list(pattern_spans(text))
    words = learned_spans(text, threshold, model, patterns) if learned else name_spans(text)
    merged: list[tuple[int, int, str]] = []
    for start, end, label in sorted(patterns + list(words)):
        if label == "NAME" and end - start == 1 and text[end : end + 1] == ".":
            end += 1  # an initial keeps its dot: "MS S. CARE"
        if merged and start < merged[-1][1]:
            s, e, kept = merged[-1]
            merged[-1] = (s, max(e, end), label if _PRIORITY.index(label) < _PRIORITY.index(kept) else kept)
        elif merged and label == merged[-1][2] == "NAME" and _NAME_GAP.fullmatch(text[merged[-1][1] : start]):
            merged[-1] = (merged[-1][0], end, "NAME")  # one name, one span: "FORMAN-LYONS", "S. DOMINICO"
        elif (
            merged
            and label == merged[-1][2] == "LOCATION"
            and (start == merged[-1][1] or _NAME_GAP.fullmatch(text[merged[-1][1] : start]))
        ):
            merged[-1] = (merged[-1][0], end, "LOCATION")  # one place: "QUARTERMAIN7", "U Maryland"
        else:
            merged.append((start, end, label))
    return [PhiSpan(s, e, label) for s, e, label in merged]


from .surrogate import Redaction, redact  # noqa: E402

__all__ = ["LABELS", "PhiSpan", "Redaction", "find_phi", "redact"]
