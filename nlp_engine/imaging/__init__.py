"""Medical images beside the text: readers (DICOM, PNG/JPEG/TIFF, MedMNIST `.npz`), a residual CNN
classifier in PyTorch with its training loop, and evaluation (AUC, confusion matrix, ROC plot)."""

from __future__ import annotations

from .evaluate import metrics, roc_plot
from .io import IMAGE_SUFFIXES, Image, ImagingError, load_folder, load_npz, read_dicom, read_image
from .model import ImageClassifier, resize

__all__ = [
    "IMAGE_SUFFIXES",
    "Image",
    "ImageClassifier",
    "ImagingError",
    "load_folder",
    "load_npz",
    "metrics",
    "read_dicom",
    "read_image",
    "resize",
    "roc_plot",
]
