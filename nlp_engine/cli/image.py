"""`nlp-engine image train|evaluate|predict`: the CNN image classifier."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(help="Medical images: train, evaluate and apply the CNN classifier.", no_args_is_help=True)

DATA_HELP = (
    "A MedMNIST-style .npz (train_images, train_labels, val_..., test_...) or a folder with one "
    "sub-folder of DICOM/PNG/JPEG/TIFF images per class."
)


def _dataset(data: Path, split: str, size: int) -> tuple:
    """`(images, labels, class_names)` of DATA: a split of an .npz, or a whole class folder (resized)."""
    from ..imaging import load_folder, load_npz

    if data.is_dir():
        images, labels, classes, skipped = load_folder(data, size=size)
        for reason in skipped:
            typer.echo(f"skipped: {reason}", err=True)
        return images, labels, classes
    images, labels = load_npz(data, split)
    return images, labels, None


@app.command("train")
def train_command(
    data: Path = typer.Argument(..., exists=True, help=DATA_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for weights.safetensors and model_card.json."),
    epochs: int = typer.Option(40, help="Most epochs (early stopping on held-out AUC may end sooner)."),
    patience: int = typer.Option(8, help="Epochs without a better held-out AUC before stopping."),
    batch_size: int = typer.Option(128),
    lr: float = typer.Option(2e-3, help="AdamW learning rate (cosine schedule)."),
    backbone: str = typer.Option("small", help="small (residual CNN) or resnet18 (needs torchvision)."),
    augment: bool = typer.Option(True, help="Flips, shifts, rotations, brightness/contrast jitter."),
    seed: int = typer.Option(0),
    image_size: int = typer.Option(28, help="Images are resized to SIZE x SIZE for the network."),
    device: str = typer.Option(None, help="cpu, cuda, ... (default: CUDA when present)."),
    evaluate_split: str = typer.Option(
        "val", help="Split of an .npz DATA to report metrics on after training ('' for none)."
    ),
) -> None:
    """Train on DATA (an .npz's train split, or a class folder), 10% held out for early stopping; report
    on the .npz's val split."""
    from ..imaging import ImageClassifier, load_npz, metrics

    images, labels, classes = _dataset(data, "train", image_size)
    model = ImageClassifier(
        image_size=image_size,
        epochs=epochs,
        patience=patience,
        batch_size=batch_size,
        lr=lr,
        backbone=backbone,
        augment=augment,
        seed=seed,
        device=device,
    ).fit(images, labels)
    card: dict = {"data": {"path": str(data), "train_images": int(len(images))}}
    if classes:
        card["class_names"] = classes
    if evaluate_split and not data.is_dir():
        v_images, v_labels = load_npz(data, evaluate_split)
        card["metrics"] = {"split": evaluate_split, **metrics(v_labels, model.predict_proba(v_images))}
    model.save(out, card=card)
    typer.echo(
        json.dumps(
            {"model": str(out), "device": model.device_used_, "fit_seconds": model.fit_seconds_, **card},
            indent=2,
        )
    )


@app.command("evaluate")
def evaluate_command(
    data: Path = typer.Argument(..., exists=True, help=DATA_HELP),
    model: Path = typer.Option(..., "--model", "-m", exists=True),
    split: str = typer.Option("val", help="Which split of an .npz DATA."),
    plot: Path = typer.Option(None, help="Write the ROC curve to this PNG."),
) -> None:
    """ROC AUC, accuracy and confusion matrix on a split (JSON), and optionally the ROC curve."""
    from ..imaging import ImageClassifier, metrics, roc_plot

    classifier = ImageClassifier.load(model)
    images, labels, _ = _dataset(data, split, classifier.image_size)
    probs = classifier.predict_proba(images)
    result = {"data": str(data), "split": split, **metrics(labels, probs)}
    if plot is not None:
        result["roc_plot"] = str(roc_plot(labels, probs, plot, title=f"{data.stem} {split}"))
    typer.echo(json.dumps(result, indent=2))


@app.command("predict")
def predict_command(
    paths: list[Path] = typer.Argument(..., exists=True, help="DICOM, PNG, JPEG or TIFF files."),
    model: Path = typer.Option(..., "--model", "-m", exists=True),
    window: str = typer.Option(None, help="DICOM window as CENTRE,WIDTH (e.g. 40,400 for CT soft tissue)."),
) -> None:
    """Class probabilities per image (JSONL); a file that cannot be read is reported and the rest go on."""
    import numpy as np

    from ..imaging import ImageClassifier, ImagingError, read_image

    classifier = ImageClassifier.load(model)
    win = tuple(float(v) for v in window.split(",")) if window else None
    failed = 0
    for path in paths:
        try:
            image = read_image(path, window=win)  # type: ignore[arg-type]
        except ImagingError as exc:
            failed += 1
            typer.echo(str(exc), err=True)
            continue
        frames = image.pixels if image.pixels.ndim == 3 else image.pixels[None]
        probs = classifier.predict_proba(frames).mean(axis=0)
        names = classifier.card_.get("class_names")
        typer.echo(
            json.dumps(
                {
                    "path": str(path),
                    **({"label": names[int(np.argmax(probs))]} if names else {}),
                    "frames": int(len(frames)),
                    "probabilities": [round(float(p), 4) for p in probs],
                    "predicted": int(np.argmax(probs)),
                }
            )
        )
    if failed:
        raise typer.Exit(code=1)
