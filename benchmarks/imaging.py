"""The CNN image classifier on MedMNIST (BreastMNIST ultrasound, PneumoniaMNIST chest X-ray), 28x28.

Usage: python benchmarks/imaging.py [--datasets breastmnist pneumoniamnist] [--device cpu|cuda]
       [--epochs 40] [--plots out/bench]

Trains on each archive's train split (10% of it held out for early stopping on ROC AUC), evaluates on
its val split (the test split is not in the shared archives): ROC AUC, accuracy, confusion matrix,
training time and epochs run, training and inference images/s, peak memory (and peak GPU memory on
CUDA). Published ResNet-18 (28) test AUCs (MedMNIST v2): BreastMNIST 0.901, PneumoniaMNIST 0.944.
Runs where spaCy is absent (a bare GPU machine). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_path, emit, import_without_spacy, peak_rss_mb  # noqa: E402

PUBLISHED_RESNET18_TEST_AUC = {"breastmnist": 0.901, "pneumoniamnist": 0.944}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="*", default=["breastmnist", "pneumoniamnist"])
    parser.add_argument("--device", default=None)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--plots", default=None, help="Folder for the ROC curves (PNG).")
    args = parser.parse_args()
    import_without_spacy()
    import torch

    from nlp_engine.imaging import ImageClassifier, load_npz, metrics, roc_plot

    results: dict[str, Any] = {}
    for name in args.datasets:
        path = (
            Path(args.data_dir) / f"{name}_trainval.npz"
            if args.data_dir
            else data_path(f"medmnist/{name}_trainval.npz")
        )
        images, labels = load_npz(path, "train")
        val_images, val_labels = load_npz(path, "val")
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        model = ImageClassifier(epochs=args.epochs, device=args.device, seed=0).fit(images, labels)
        started = time.perf_counter()
        probs = model.predict_proba(val_images)
        infer = time.perf_counter() - started
        epochs_run = len(model.history_)
        results[name] = {
            "train_images": int(len(images)),
            "val_images": int(len(val_images)),
            "device": model.device_used_,
            **metrics(val_labels, probs),
            "published_resnet18_test_auc": PUBLISHED_RESNET18_TEST_AUC.get(name),
            "best_held_out_auc": model.best_held_out_auc_,
            "epochs_run": epochs_run,
            "fit_seconds": model.fit_seconds_,
            "train_images_per_s": round(len(images) * 0.9 * epochs_run / model.fit_seconds_, 1),
            "inference_images_per_s": round(len(val_images) / infer, 1),
            **(
                {"peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)}
                if model.device_used_.startswith("cuda")
                else {}
            ),
        }
        if args.plots:
            results[name]["roc_plot"] = str(
                roc_plot(val_labels, probs, Path(args.plots) / f"{name}_roc.png", title=f"{name} val")
            )
        print(name, results[name], file=sys.stderr)
    emit(
        {
            "benchmark": "imaging",
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "results": results,
            "peak_rss_mb": peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
