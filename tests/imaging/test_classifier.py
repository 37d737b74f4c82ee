"""The CNN image classifier on a real MedMNIST subset (BreastMNIST ultrasound), its persistence and the
image CLI, including a class folder of DICOM/PNG files and the one-line errors of the console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from nlp_engine.cli import app
from nlp_engine.imaging import ImageClassifier, ImagingError, load_npz, metrics
from tests.conftest import shared_data


@pytest.fixture(scope="module")
def breast(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """BreastMNIST's train (546) and val (78) ultrasound images, as a small .npz copy."""
    source = shared_data("medmnist/breastmnist_trainval.npz")
    out = tmp_path_factory.mktemp("breast") / "breast_small.npz"
    with np.load(source) as data:
        np.savez(
            out,
            train_images=data["train_images"],
            train_labels=data["train_labels"],
            val_images=data["val_images"],
            val_labels=data["val_labels"],
        )
    return out


@pytest.fixture(scope="module")
def trained(breast: Path) -> ImageClassifier:
    images, labels = load_npz(breast, "train")
    return ImageClassifier(epochs=8, patience=8, seed=0, device="cpu").fit(images, labels)


def test_learns_better_than_chance_on_real_images(breast: Path, trained: ImageClassifier) -> None:
    images, labels = load_npz(breast, "val")
    result = metrics(labels, trained.predict_proba(images))
    assert result["roc_auc"] > 0.7, result
    assert sum(map(sum, result["confusion_matrix"])) == len(labels)
    assert 1 <= len(trained.history_) <= 8
    assert trained.best_held_out_auc_ == max(h["held_out_auc"] for h in trained.history_)


def test_seeded_training_is_reproducible(breast: Path, trained: ImageClassifier) -> None:
    images, labels = load_npz(breast, "train")
    first, second = (
        ImageClassifier(epochs=2, seed=7, device="cpu").fit(images[:200], labels[:200]) for _ in range(2)
    )
    other = ImageClassifier(epochs=2, seed=8, device="cpu").fit(images[:200], labels[:200])
    val, _ = load_npz(breast, "val")
    np.testing.assert_allclose(first.predict_proba(val), second.predict_proba(val), atol=1e-5)
    assert np.abs(first.predict_proba(val) - other.predict_proba(val)).max() > 1e-3


def test_save_load_round_trip_and_tamper_check(
    tmp_path: Path, breast: Path, trained: ImageClassifier
) -> None:
    val, _ = load_npz(breast, "val")
    trained.save(tmp_path / "m", card={"note": "test"})
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["classes"] == [0, 1] and card["config"]["seed"] == 0 and card["note"] == "test"
    loaded = ImageClassifier.load(tmp_path / "m", device="cpu")
    np.testing.assert_allclose(loaded.predict_proba(val), trained.predict_proba(val), atol=1e-6)
    weights = tmp_path / "m" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x00")
    with pytest.raises(ImagingError, match="SHA-256 differs"):
        ImageClassifier.load(tmp_path / "m")


def test_training_input_errors() -> None:
    with pytest.raises(ImagingError, match="two classes"):
        ImageClassifier(epochs=1).fit(np.zeros((10, 8, 8)), np.zeros(10))
    with pytest.raises(ImagingError, match="10 images but 9 labels"):
        ImageClassifier(epochs=1).fit(np.zeros((10, 8, 8)), np.arange(9) % 2)
    with pytest.raises(ImagingError, match="different sizes"):
        ImageClassifier(epochs=1).fit([np.zeros((8, 8)), np.zeros((9, 9))], [0, 1])
    with pytest.raises(ImagingError, match="not trained"):
        ImageClassifier().predict(np.zeros((1, 8, 8)))


def test_cli_train_evaluate_predict(tmp_path: Path, breast: Path) -> None:
    runner = CliRunner()
    model = tmp_path / "model"
    result = runner.invoke(
        app, ["image", "train", str(breast), "--out", str(model), "--epochs", "2", "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    trained = json.loads(result.output)
    assert trained["metrics"]["split"] == "val" and 0.0 <= trained["metrics"]["roc_auc"] <= 1.0
    plot = tmp_path / "roc.png"
    result = runner.invoke(
        app, ["image", "evaluate", str(breast), "--model", str(model), "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["roc_plot"] == str(plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from PIL import Image as PILImage
    from pydicom.data import get_testdata_file

    images, _ = load_npz(breast, "val")
    PILImage.fromarray((images[0] * 255).astype(np.uint8)).save(tmp_path / "us.png")
    shutil.copy(str(get_testdata_file("CT_small.dcm")), tmp_path / "ct.dcm")
    (tmp_path / "fake.png").write_text("not an image", encoding="utf-8")
    paths = [str(tmp_path / n) for n in ("us.png", "fake.png", "ct.dcm")]
    result = runner.invoke(app, ["image", "predict", *paths, "--model", str(model)])
    assert result.exit_code == 1  # one file could not be read; the others were still predicted
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [Path(p["path"]).name for p in lines] == ["us.png", "ct.dcm"]
    assert all(abs(sum(p["probabilities"]) - 1) < 1e-3 for p in lines)
    assert "fake.png: not an image" in result.stderr


def test_cli_trains_on_a_class_folder(tmp_path: Path, breast: Path) -> None:
    from PIL import Image as PILImage

    images, labels = load_npz(breast, "train")
    for i, (image, label) in enumerate(zip(images[:60], labels[:60], strict=True)):
        folder = tmp_path / "data" / ("malignant" if label == 0 else "benign")
        folder.mkdir(parents=True, exist_ok=True)
        PILImage.fromarray((image * 255).astype(np.uint8)).resize((40, 40)).save(folder / f"{i}.png")
    result = CliRunner().invoke(
        app,
        ["image", "train", str(tmp_path / "data"), "--out", str(tmp_path / "m"), "--epochs", "1",
         "--image-size", "32", "--device", "cpu"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["class_names"] == ["benign", "malignant"]
    assert ImageClassifier.load(tmp_path / "m").image_size == 32


def test_console_script_prints_one_line_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_text("hello", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", "from nlp_engine.cli import main; main()", "image", "train", str(bad),
         "--out", str(tmp_path / "m")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == "error: [E009] bad.npz: not a readable .npz archive (ValueError)"
