"""Evaluation of an image classifier: ROC AUC, accuracy, confusion matrix, and a ROC curve as PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix

    from .model import _auc

    labels = np.asarray(labels).ravel()
    predicted = probs.argmax(axis=1)
    return {
        "images": int(len(labels)),
        "roc_auc": round(_auc(labels, probs), 4),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "majority_class_accuracy": round(float(np.bincount(labels).max() / len(labels)), 4)
        if len(labels)
        else 0.0,
        "confusion_matrix": confusion_matrix(labels, predicted, labels=list(range(probs.shape[1]))).tolist(),
    }


def roc_plot(labels: np.ndarray, probs: np.ndarray, out: str | Path, title: str = "ROC") -> Path:
    """Write a ROC curve (one curve per class against the rest when there are more than two) to PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import auc, roc_curve

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=120)
    classes = [1] if probs.shape[1] == 2 else list(range(probs.shape[1]))
    for c in classes:
        fpr, tpr, _ = roc_curve(np.asarray(labels) == c, probs[:, c])
        ax.plot(fpr, tpr, label=f"class {c} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
