"""Reading medical images into float arrays in [0, 1]: DICOM (pydicom), PNG/JPEG/TIFF (Pillow) and
MedMNIST-style `.npz` arrays.

DICOM: the modality LUT or rescale slope/intercept (to Hounsfield units for CT), then the VOI LUT or
window centre/width (the window given by the caller, else the file's, else the full range), then
MONOCHROME1 inversion (so bright always means dense), then scaling to [0, 1]. Colour images (RGB,
YBR, palette) become grey by luminance. Multi-frame objects give `(frames, H, W)`. A transfer syntax
that no installed decoder handles is an `ImagingError` naming the syntax and the plugin to install;
a truncated or corrupt file, a file without pixel data, or a PNG that is really text are
`ImagingError`s naming the file, never a crash.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImagingError

DICOM_SUFFIXES = (".dcm", ".dicom")
PIL_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
NPZ_SUFFIXES = (".npz",)
IMAGE_SUFFIXES = DICOM_SUFFIXES + PIL_SUFFIXES + NPZ_SUFFIXES


@dataclass
class Image:
    """Pixels as float32 in [0, 1]: `(H, W)` or `(frames, H, W)`; `meta` says where they came from."""

    pixels: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def _grey(array: np.ndarray, photometric: str) -> np.ndarray:
    if array.ndim >= 3 and array.shape[-1] in (3, 4):
        if photometric.startswith("YBR"):
            return array[..., 0].astype(np.float64)  # Y is the luminance
        rgb = array[..., :3].astype(np.float64)
        return rgb @ np.array([0.299, 0.587, 0.114])
    return array.astype(np.float64)


def _scale(array: np.ndarray) -> np.ndarray:
    lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
    if hi <= lo:
        return np.zeros(array.shape, dtype=np.float32)
    return ((array - lo) / (hi - lo)).astype(np.float32)


def read_dicom(path: str | Path, *, window: tuple[float, float] | None = None) -> Image:
    """A DICOM image (see the module docstring). `window` is `(centre, width)`."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)
    except (InvalidDicomError, EOFError, OSError, ValueError) as exc:
        raise ImagingError(f"{path.name}: not a readable DICOM file ({type(exc).__name__})") from None
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise ImagingError(
            f"{path.name}: a DICOM object without pixel data ({ds.get('Modality', 'unknown modality')})"
        )
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = ds.pixel_array
    except (NotImplementedError, RuntimeError) as exc:
        name = syntax.name if syntax is not None else "unknown"
        raise ImagingError(
            f"{path.name}: transfer syntax {name!r} cannot be decoded here ({type(exc).__name__}); "
            "install a pydicom decoder plugin for it (pylibjpeg with -libjpeg/-openjpeg, or gdcm)"
        ) from None
    except (ValueError, AttributeError, KeyError) as exc:
        raise ImagingError(f"{path.name}: corrupt or truncated pixel data ({type(exc).__name__})") from None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        raw = apply_color_lut(raw, ds)
        photometric = "RGB"
    if photometric.startswith("MONOCHROME"):
        array = apply_modality_lut(raw, ds).astype(np.float64)
        if window is not None:
            centre, width = window
            lo, hi = centre - width / 2, centre + width / 2
            array = np.clip(array, lo, hi)
            array = (array - lo) / max(hi - lo, 1e-9)
        elif "VOILUTSequence" in ds or "WindowCenter" in ds:
            array = apply_voi_lut(array, ds).astype(np.float64)
        if photometric == "MONOCHROME1":
            array = array.max() - array + array.min()
    else:
        array = _grey(raw, photometric)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    meta = {
        "format": "dicom",
        "modality": str(ds.get("Modality", "")),
        "photometric": str(ds.get("PhotometricInterpretation", "")),
        "transfer_syntax": syntax.name if syntax is not None else None,
        "frames": frames,
        "window": list(window) if window else None,
    }
    return Image(_scale(array), meta)


def read_pil(path: str | Path) -> Image:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    path = Path(path)
    try:
        with PILImage.open(path) as img:
            mode = img.mode
            frames = getattr(img, "n_frames", 1)
            grey = img.convert("I;16" if mode.startswith("I;16") else "L") if mode not in ("F", "I") else img
            array = np.asarray(grey, dtype=np.float64)
    except UnidentifiedImageError:
        raise ImagingError(
            f"{path.name}: not an image Pillow can read (is it really {path.suffix}?)"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImagingError(f"{path.name}: corrupt image ({type(exc).__name__})") from None
    return Image(_scale(array), {"format": path.suffix.lower().lstrip("."), "mode": mode, "frames": frames})


def read_image(path: str | Path, *, window: tuple[float, float] | None = None) -> Image:
    """Any single image by suffix (DICOM, PNG, JPEG, TIFF, BMP)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in DICOM_SUFFIXES:
        return read_dicom(path, window=window)
    if suffix in PIL_SUFFIXES:
        return read_pil(path)
    raise ImagingError(
        f"{path.name}: unsupported image suffix {suffix!r} (expected one of {', '.join(IMAGE_SUFFIXES)})"
    )


def load_folder(
    path: str | Path, *, size: int | None = None, window: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """A labelled image folder, one sub-folder per class (`DATA/benign/*.png`, `DATA/malignant/*.dcm`):
    `(images, labels, class_names, skipped)`. Classes are the sub-folder names in sorted order (label
    0, 1, ...). With `size`, every image is resized to `size x size`; without it, images of different
    sizes are an `ImagingError` saying which sizes were found. A multi-frame image gives its middle
    frame. Files that cannot be read are listed in `skipped` (file name and reason), the rest go on."""
    from .model import resize

    root = Path(path)
    if not root.is_dir():
        raise ImagingError(f"{root.name}: not a folder of class sub-folders")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise ImagingError(f"{root.name}: no class sub-folders (expected DATA/<class>/<image files>)")
    arrays: list[np.ndarray] = []
    labels: list[int] = []
    skipped: list[str] = []
    for label, name in enumerate(classes):
        for file in sorted((root / name).rglob("*")):
            if not file.is_file() or file.suffix.lower() not in DICOM_SUFFIXES + PIL_SUFFIXES:
                continue
            try:
                pixels = read_image(file, window=window).pixels
            except ImagingError as exc:
                skipped.append(str(exc))
                continue
            if pixels.ndim == 3:
                pixels = pixels[len(pixels) // 2]
            arrays.append(resize(pixels[None], size)[0] if size else pixels)
            labels.append(label)
    if not arrays:
        raise ImagingError(f"{root.name}: no readable images under its class sub-folders")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        found = ", ".join(f"{h}x{w}" for h, w in sorted(shapes)[:5])
        raise ImagingError(
            f"{root.name}: images of different sizes ({found}{', ...' if len(shapes) > 5 else ''}); "
            "give a size to resize them to"
        )
    return np.stack(arrays).astype(np.float32), np.asarray(labels, dtype=np.int64), classes, skipped


def load_npz(path: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """`(images, labels)` of one split of a MedMNIST-style archive (`<split>_images`, `<split>_labels`):
    images as float32 `(N, H, W)` in [0, 1], labels as int64 `(N,)`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = set(data.files)
            if f"{split}_images" not in keys or f"{split}_labels" not in keys:
                raise ImagingError(
                    f"{path.name}: no {split}_images/{split}_labels arrays (has {sorted(keys)})"
                )
            images = data[f"{split}_images"]
            labels = data[f"{split}_labels"]
    except ImagingError:
        raise
    except (OSError, ValueError) as exc:
        raise ImagingError(f"{path.name}: not a readable .npz archive ({type(exc).__name__})") from None
    if images.ndim == 4 and images.shape[-1] in (1, 3):
        images = images.mean(axis=-1) if images.shape[-1] == 3 else images[..., 0]
    if images.ndim != 3:
        raise ImagingError(f"{path.name}: {split}_images has shape {images.shape}; (N, H, W) expected")
    labels = np.asarray(labels).reshape(len(labels), -1)
    if labels.shape[1] != 1:
        raise ImagingError(f"{path.name}: multi-label {split}_labels {labels.shape} are not supported")
    if len(labels) != len(images):
        raise ImagingError(f"{path.name}: {len(images)} images but {len(labels)} labels")
    scale = 255.0 if images.dtype == np.uint8 else max(float(images.max()), 1.0)
    return (images.astype(np.float32) / scale), labels[:, 0].astype(np.int64)
