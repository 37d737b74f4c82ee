"""A small residual CNN (PyTorch) for grey medical images, with its training loop.

`ImageClassifier(...)`.fit(images, labels) holds out a stratified `early_stopping_fraction` of the
training images, trains with augmentation (flips, shifts, small rotations, brightness/contrast jitter)
and class-weighted cross-entropy (AdamW, cosine learning rate), keeps the weights of the epoch with the
best held-out ROC AUC and stops after `patience` epochs without improvement. The device is the one
given, else CUDA when present, else CPU; `seed` fixes initialisation, batching and augmentation.
`backbone="resnet18"` uses torchvision's ResNet-18 (one input channel) when torchvision is installed.

Saved as `weights.safetensors` (tensors only: loading runs no code) and `model_card.json`
(architecture, classes, image size, training history and metrics, versions, the weights' SHA-256).
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..model_files import sha256
from .io import ImagingError

CARD_FORMAT = "nlp_engine.image_classifier.v1"


def _torch() -> Any:
    import torch

    return torch


def build_network(backbone: str, n_classes: int, widths: tuple[int, ...] = (24, 48, 96)) -> Any:
    import torch.nn as nn

    if backbone == "resnet18":
        try:
            from torchvision.models import resnet18
        except ImportError:
            raise ImagingError("backbone 'resnet18' needs torchvision, which is not installed") from None
        net = resnet18(weights=None, num_classes=n_classes)
        net.conv1 = nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
        return net
    if backbone != "small":
        raise ImagingError(f"unknown backbone {backbone!r}; choose 'small' or 'resnet18'")

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                nn.BatchNorm2d(cout),
            )
            self.skip = (
                nn.Identity()
                if stride == 1 and cin == cout
                else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            )
            self.act = nn.ReLU(inplace=True)

        def forward(self, x: Any) -> Any:
            return self.act(self.body(x) + self.skip(x))

    layers: list[Any] = [
        nn.Conv2d(1, widths[0], 3, 1, 1, bias=False),
        nn.BatchNorm2d(widths[0]),
        nn.ReLU(inplace=True),
    ]
    cin = widths[0]
    for i, width in enumerate(widths):
        layers.append(Block(cin, width, 1 if i == 0 else 2))
        cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(cin, n_classes)]
    return nn.Sequential(*layers)


def resize(images: np.ndarray, size: int) -> np.ndarray:
    """`(N, H, W)` float images resized to `(N, size, size)` (bilinear; no-op when already that size)."""
    if images.ndim != 3:
        raise ImagingError(f"images must be (N, H, W), got shape {images.shape}")
    if images.shape[1:] == (size, size):
        return images.astype(np.float32)
    torch = _torch()
    tensor = torch.from_numpy(images.astype(np.float32))[:, None]
    out = torch.nn.functional.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False)
    return out[:, 0].numpy()


def _stack(images: Any) -> np.ndarray:
    """Images as one `(N, H, W)` float32 array; a clear error for images of different sizes."""
    if isinstance(images, np.ndarray) and images.ndim == 3:
        return images.astype(np.float32, copy=False)
    arrays = [np.asarray(image) for image in images]
    shapes = sorted({a.shape for a in arrays})
    if any(len(shape) != 2 for shape in shapes):
        raise ImagingError(f"images must be 2-D grey arrays, got shapes {shapes[:5]}")
    if len(shapes) > 1:
        raise ImagingError(
            f"images of different sizes {shapes[:5]}: resize them first (nlp_engine.imaging.resize, "
            "or load_folder(..., size=N))"
        )
    return np.stack(arrays).astype(np.float32)


def _auc(labels: np.ndarray, probs: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if len(set(labels.tolist())) < 2:
        return float("nan")
    if probs.shape[1] == 2:
        return float(roc_auc_score(labels, probs[:, 1]))
    return float(roc_auc_score(labels, probs, multi_class="ovr", labels=list(range(probs.shape[1]))))


class ImageClassifier:
    """See the module docstring."""

    def __init__(
        self,
        *,
        backbone: str = "small",
        image_size: int = 28,
        epochs: int = 40,
        batch_size: int = 128,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        patience: int = 8,
        augment: bool = True,
        class_weight: str | None = "balanced",
        early_stopping_fraction: float = 0.1,
        seed: int = 0,
        device: str | None = None,
    ) -> None:
        self.backbone = backbone
        self.image_size = image_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.augment = augment
        self.class_weight = class_weight
        self.early_stopping_fraction = early_stopping_fraction
        self.seed = seed
        self.device = device
        self.net: Any = None
        self.classes_: list[int] = []
        self.history_: list[dict[str, float]] = []
        self.card_: dict[str, Any] = {}

    def _device(self) -> str:
        from ..embeddings.transformer import pick_device

        return pick_device(self.device)

    def _augment(self, x: Any, generator: Any) -> Any:
        torch = _torch()
        n = x.shape[0]
        flip = torch.rand(n, generator=generator, device="cpu") < 0.5
        x = torch.where(flip.to(x.device)[:, None, None, None], x.flip(-1), x)
        angle = (torch.rand(n, generator=generator) - 0.5) * (2 * np.pi / 18)  # +-10 degrees
        shift = (torch.rand(n, 2, generator=generator) - 0.5) * 0.2  # +-10% of the size
        cos, sin = torch.cos(angle), torch.sin(angle)
        theta = torch.stack(
            [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
        )
        grid = torch.nn.functional.affine_grid(theta.to(x.device), list(x.shape), align_corners=False)
        x = torch.nn.functional.grid_sample(x, grid, padding_mode="border", align_corners=False)
        contrast = (1 + (torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.3).to(x.device)
        bright = ((torch.rand(n, 1, 1, 1, generator=generator) - 0.5) * 0.2).to(x.device)
        return x * contrast + bright

    def _tensor(self, images: np.ndarray, device: str) -> Any:
        torch = _torch()
        x = torch.from_numpy(resize(images, self.image_size))[:, None]
        return ((x - 0.5) / 0.25).to(device)

    def fit(self, images: np.ndarray, labels: np.ndarray) -> ImageClassifier:
        torch = _torch()
        from sklearn.model_selection import train_test_split

        labels = np.asarray(labels).astype(np.int64).ravel()
        images = _stack(images)
        if len(images) != len(labels):
            raise ImagingError(f"{len(images)} images but {len(labels)} labels")
        self.classes_ = sorted(set(labels.tolist()))
        if len(self.classes_) < 2:
            raise ImagingError(f"training needs at least two classes; every label is {self.classes_}")
        if self.classes_ != list(range(len(self.classes_))):
            raise ImagingError(f"labels must be 0..K-1, got {self.classes_}")
        torch.manual_seed(self.seed)
        np.random.seed(self.seed)
        train_idx, stop_idx = train_test_split(
            np.arange(len(labels)),
            test_size=self.early_stopping_fraction,
            stratify=labels,
            random_state=self.seed,
        )
        device = self._device()
        self.device_used_ = device
        x_train, y_train = (
            self._tensor(images[train_idx], device),
            torch.from_numpy(labels[train_idx]).to(device),
        )
        x_stop, y_stop = images[stop_idx], labels[stop_idx]
        n_classes = len(self.classes_)
        self.net = build_network(self.backbone, n_classes).to(device)
        counts = np.bincount(labels[train_idx], minlength=n_classes).astype(np.float64)
        weights = (
            torch.tensor(
                len(train_idx) / (n_classes * np.maximum(counts, 1)), dtype=torch.float32, device=device
            )
            if self.class_weight == "balanced"
            else None
        )
        loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(self.epochs, 1))
        generator = torch.Generator().manual_seed(self.seed)
        best_auc, best_state, stale = -1.0, None, 0
        self.history_ = []
        started = time.perf_counter()
        for epoch in range(self.epochs):
            self.net.train()
            order = torch.randperm(len(train_idx), generator=generator).to(device)
            total = 0.0
            for b in range(0, len(order), self.batch_size):
                idx = order[b : b + self.batch_size]
                if len(idx) < 2:
                    continue
                xb = x_train[idx]
                if self.augment:
                    xb = self._augment(xb, generator)
                optimizer.zero_grad()
                loss = loss_fn(self.net(xb), y_train[idx])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(idx)
            scheduler.step()
            auc = _auc(y_stop, self.predict_proba(x_stop))
            self.history_.append(
                {"epoch": epoch + 1, "loss": round(total / len(train_idx), 4), "held_out_auc": round(auc, 4)}
            )
            if auc > best_auc + 1e-4:
                best_auc, stale = auc, 0
                best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self.best_held_out_auc_ = round(best_auc, 4)
        self.fit_seconds_ = round(time.perf_counter() - started, 1)
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        if self.net is None:
            raise ImagingError("this ImageClassifier is not trained yet: call fit() or load a saved model")
        images = _stack(images)
        torch = _torch()
        device = next(self.net.parameters()).device
        self.net.eval()
        out = []
        with torch.inference_mode():
            for b in range(0, len(images), 512):
                x = self._tensor(images[b : b + 512], str(device))
                out.append(torch.softmax(self.net(x), dim=1).float().cpu().numpy())
        return np.vstack(out) if out else np.zeros((0, len(self.classes_)), dtype=np.float32)

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.predict_proba(images).argmax(axis=1)

    # -- persistence ---------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone,
            "image_size": self.image_size,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "patience": self.patience,
            "augment": self.augment,
            "class_weight": self.class_weight,
            "early_stopping_fraction": self.early_stopping_fraction,
            "seed": self.seed,
        }

    def save(self, out: str | Path, *, card: dict[str, Any] | None = None) -> Path:
        import torch
        from safetensors.torch import save_file

        if self.net is None:
            raise ImagingError("nothing to save: the model is not trained")
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        weights = out / "weights.safetensors"
        save_file({k: v.detach().cpu().contiguous() for k, v in self.net.state_dict().items()}, str(weights))
        full = {
            "format": CARD_FORMAT,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "config": self.config(),
            "classes": self.classes_,
            "training": {
                "device": getattr(self, "device_used_", None),
                "fit_seconds": getattr(self, "fit_seconds_", None),
                "best_held_out_auc": getattr(self, "best_held_out_auc_", None),
                "history": self.history_,
            },
            "versions": {"nlp_engine": __version__, "torch": torch.__version__},
            **(card or {}),
            "sha256": sha256(weights),
        }
        (out / "model_card.json").write_text(json.dumps(full, indent=2), encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None) -> ImageClassifier:
        from safetensors.torch import load_file

        path = Path(path)
        card_path, weights = path / "model_card.json", path / "weights.safetensors"
        if not card_path.exists() or not weights.exists():
            raise ImagingError(
                f"{path}: not a saved image model (model_card.json and weights.safetensors expected)"
            )
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ImagingError(f"{card_path}: the model card is not valid JSON") from None
        if card.get("format") != CARD_FORMAT:
            raise ImagingError(f"{card_path}: not an nlp_engine image model card")
        if sha256(weights) != card.get("sha256"):
            raise ImagingError(
                f"{weights}: the file changed since it was saved (SHA-256 differs from the card)"
            )
        model = cls(**card["config"], device=device)
        model.classes_ = list(card["classes"])
        model.history_ = card.get("training", {}).get("history", [])
        net = build_network(model.backbone, len(model.classes_))
        try:
            net.load_state_dict(load_file(str(weights)))
        except RuntimeError:
            raise ImagingError(
                f"{weights}: the weights do not fit the {model.backbone} architecture"
            ) from None
        model.net = net.to(model._device()).eval()
        model.card_ = card
        return model
