"""Multi-label coding metrics: micro/macro precision, recall and F1, precision@k, and MAP.

`mean_average_precision` follows the CodiEsp evaluation script (`codiespD_P_evaluation.py`, trectools
`get_map(trec_eval=False)`): the ranking is the order given, a code repeated in one ranking counts at
its first position only, only the first 1,000 ranks count, and a document's average precision is the
sum of precision at each correct rank divided by its number of distinct gold codes. The mean is taken
over every document that has gold codes; a document without predictions counts 0 (trectools would
leave it out), so this figure is never above the script's.
"""

from __future__ import annotations

from collections.abc import Sequence

DEPTH = 1000


def average_precision(gold: Sequence[str], ranked: Sequence[str], depth: int = DEPTH) -> float:
    truth = set(gold)
    if not truth:
        return 0.0
    seen: set[str] = set()
    hits = 0
    total = 0.0
    rank = 0
    for code in ranked:
        if code in seen:
            continue
        seen.add(code)
        rank += 1
        if rank > depth:
            break
        if code in truth:
            hits += 1
            total += hits / rank
    return total / len(truth)


def mean_average_precision(
    gold: Sequence[Sequence[str]], ranked: Sequence[Sequence[str]], depth: int = DEPTH
) -> float:
    pairs = [(g, r) for g, r in zip(gold, ranked, strict=True) if g]
    return sum(average_precision(g, r, depth) for g, r in pairs) / len(pairs) if pairs else 0.0


def precision_at_k(gold: Sequence[Sequence[str]], ranked: Sequence[Sequence[str]], k: int = 5) -> float:
    """Mean over documents with gold codes of |top-k ∩ gold| / k."""
    pairs = [(set(g), list(dict.fromkeys(r))[:k]) for g, r in zip(gold, ranked, strict=True) if g]
    return sum(len(g & set(r)) / k for g, r in pairs) / len(pairs) if pairs else 0.0


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def multilabel_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro scores over all (document, code) pairs; macro scores averaged over every code that is in
    the gold or the predictions (a code never predicted scores 0, as in scikit-learn)."""
    tp = n_pred = n_gold = 0
    per: dict[str, list[int]] = {}
    for g, p in zip(gold, predicted, strict=True):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        n_pred += len(ps)
        n_gold += len(gs)
        for code in gs | ps:
            row = per.setdefault(code, [0, 0, 0])
            row[0] += code in gs and code in ps
            row[1] += code in ps
            row[2] += code in gs
    micro = _prf(tp, n_pred, n_gold)
    macro = [_prf(*row) for row in per.values()]
    n = len(macro) or 1
    return {
        "micro_precision": round(micro[0], 4),
        "micro_recall": round(micro[1], 4),
        "micro_f1": round(micro[2], 4),
        "macro_precision": round(sum(m[0] for m in macro) / n, 4),
        "macro_recall": round(sum(m[1] for m in macro) / n, 4),
        "macro_f1": round(sum(m[2] for m in macro) / n, 4),
    }
