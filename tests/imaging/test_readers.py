"""Image readers on the real DICOM files bundled in pydicom's wheel, Pillow formats and `.npz` archives,
and the clear errors for what cannot be read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from nlp_engine.imaging import ImagingError, load_folder, load_npz, read_dicom, read_image


def dicom(name: str) -> Path:
    path = get_testdata_file(name)
    assert path is not None, name
    return Path(path)


def test_ct_is_rescaled_to_hounsfield_units_then_windowed() -> None:
    ds = pydicom.dcmread(dicom("CT_small.dcm"))
    image = read_dicom(dicom("CT_small.dcm"))
    assert image.pixels.shape == (128, 128)
    assert image.pixels.dtype == np.float32
    assert image.pixels.min() >= 0.0 and image.pixels.max() <= 1.0
    assert image.meta["modality"] == "CT"
    # a soft-tissue window (40, 400): every HU below -160 is black, above 240 white
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    windowed = read_dicom(dicom("CT_small.dcm"), window=(40, 400)).pixels
    assert np.all(windowed[hu <= -160] == windowed.min())
    assert np.all(windowed[hu >= 240] == windowed.max())
    inside = (hu > -150) & (hu < 230)
    # inside the window the order of intensities follows HU
    order = np.argsort(hu[inside])
    assert np.all(np.diff(windowed[inside][order]) >= -1e-6)


def test_mr_and_compressed_rle_decode_to_the_same_pixels() -> None:
    plain = read_dicom(dicom("MR_small.dcm")).pixels
    rle = read_dicom(dicom("MR_small_RLE.dcm")).pixels
    assert plain.shape == (64, 64)
    np.testing.assert_allclose(plain, rle, atol=1e-6)


def test_multi_frame_dose_gives_frames() -> None:
    image = read_dicom(dicom("rtdose.dcm"))
    assert image.pixels.ndim == 3 and image.pixels.shape[0] == image.meta["frames"] > 1


def test_monochrome1_is_inverted_so_bright_means_dense(tmp_path: Path) -> None:
    ds = pydicom.dcmread(dicom("MR_small.dcm"))
    for keyword in ("WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.save_as(tmp_path / "m2.dcm")
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(tmp_path / "m1.dcm")
    m2 = read_dicom(tmp_path / "m2.dcm").pixels
    m1 = read_dicom(tmp_path / "m1.dcm").pixels
    np.testing.assert_allclose(m1, 1.0 - m2, atol=1e-6)


def test_colour_dicom_becomes_grey() -> None:
    image = read_dicom(dicom("SC_rgb_small_odd.dcm"))
    assert image.pixels.ndim == 2


def test_unsupported_transfer_syntax_names_it() -> None:
    with pytest.raises(ImagingError, match="JPEG-LS|JPEG LS") as info:
        read_dicom(dicom("MR_small_jpeg_ls_lossless.dcm"))
    assert "decoder" in str(info.value)


def test_truncated_dicom_and_dicom_without_pixels_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ImagingError, match="MR_truncated.dcm: corrupt or truncated"):
        read_dicom(dicom("MR_truncated.dcm"))
    with pytest.raises(ImagingError, match="without pixel data"):
        read_dicom(dicom("rtplan.dcm"))
    junk = tmp_path / "scan.dcm"
    junk.write_bytes(b"\x00\x01not dicom at all" * 10)
    with pytest.raises(ImagingError, match="scan.dcm: not a readable DICOM"):
        read_dicom(junk)


def test_png_tiff_and_a_png_that_is_really_text(tmp_path: Path) -> None:
    from PIL import Image as PILImage

    gradient = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (16, 1))
    PILImage.fromarray(gradient).save(tmp_path / "g.png")
    PILImage.fromarray(gradient.astype(np.uint16) * 200).save(tmp_path / "g.tif")
    png = read_image(tmp_path / "g.png").pixels
    tif = read_image(tmp_path / "g.tif").pixels
    assert png.shape == (16, 32) and png[0, 0] == 0.0 and png[0, -1] == 1.0
    np.testing.assert_allclose(png, tif, atol=1e-3)
    fake = tmp_path / "report.png"
    fake.write_text("FINAL DIAGNOSIS: benign", encoding="utf-8")
    with pytest.raises(ImagingError, match="report.png: not an image"):
        read_image(fake)
    with pytest.raises(ImagingError, match="unsupported image suffix"):
        read_image(tmp_path / "notes.txt")


def test_npz_splits_and_mismatches(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 255, (6, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "ok.npz", train_images=images, train_labels=np.array([[0], [1]] * 3))
    x, y = load_npz(tmp_path / "ok.npz", "train")
    assert x.shape == (6, 8, 8) and x.max() <= 1.0 and y.tolist() == [0, 1] * 3
    with pytest.raises(ImagingError, match="no val_images"):
        load_npz(tmp_path / "ok.npz", "val")
    np.savez(tmp_path / "bad.npz", train_images=images, train_labels=np.array([0, 1, 0]))
    with pytest.raises(ImagingError, match="6 images but 3 labels"):
        load_npz(tmp_path / "bad.npz", "train")
    (tmp_path / "text.npz").write_text("hello", encoding="utf-8")
    with pytest.raises(ImagingError, match="not a readable .npz"):
        load_npz(tmp_path / "text.npz", "train")


def test_class_folder_resizes_skips_bad_files_and_refuses_mixed_sizes_without_a_size(
    tmp_path: Path,
) -> None:
    from PIL import Image as PILImage

    for label, sizes in (("benign", (16, 20)), ("malignant", (24,))):
        (tmp_path / label).mkdir()
        for size in sizes:
            PILImage.fromarray(np.full((size, size), size * 5, dtype=np.uint8)).save(
                tmp_path / label / f"{size}.png"
            )
    (tmp_path / "malignant" / "broken.png").write_text("not a png", encoding="utf-8")
    pydicom.dcmread(dicom("CT_small.dcm")).save_as(tmp_path / "malignant" / "ct.dcm")
    images, labels, classes, skipped = load_folder(tmp_path, size=12)
    assert classes == ["benign", "malignant"]
    assert images.shape == (4, 12, 12) and labels.tolist() == [0, 0, 1, 1]
    assert len(skipped) == 1 and "broken.png" in skipped[0]
    with pytest.raises(ImagingError, match="different sizes"):
        load_folder(tmp_path)
