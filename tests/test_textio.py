from __future__ import annotations

import codecs

import pytest

from nlp_engine.errors import NotTextError
from nlp_engine.textio import coerce_text, decode_bytes, repair_nul_interleaved, sanitize


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ("naïve".encode(), "naïve", "utf-8"),
        (codecs.BOM_UTF8 + "naïve".encode(), "naïve", "utf-8-sig"),
        ("naïve".encode("utf-16"), "naïve", "utf-16"),
        ("naïve".encode("utf-32"), "naïve", "utf-32"),
        ("“quoted” – café".encode("cp1252"), "“quoted” – café", "cp1252"),
        (b"caf\xe9 \x81", "café \x81", "latin-1"),  # 0x81 is undefined in cp1252
        (b"", "", "utf-8"),
        # UTF-16 without a byte-order mark (Windows exports): NUL in every other byte
        ("Renal cell carcinoma, naïve.".encode("utf-16-le"), "Renal cell carcinoma, naïve.", "utf-16-le"),
        ("Renal cell carcinoma, naïve.".encode("utf-16-be"), "Renal cell carcinoma, naïve.", "utf-16-be"),
    ],
)
def test_decode_bytes(data: bytes, text: str, encoding: str) -> None:
    assert decode_bytes(data) == (text, encoding)


@pytest.mark.parametrize("data", [b"\x00\x00\x00", b"%PDF-1.4\x00\x01\x02", bytes(range(32)) * 10])
def test_binary_detected(data: bytes) -> None:
    with pytest.raises(NotTextError, match="binary"):
        decode_bytes(data)


def test_error_messages_do_not_leak_content() -> None:
    secret = b"John Smith SSN 123-45-6789\x00\x00"
    with pytest.raises(NotTextError) as info:
        decode_bytes(secret)
    assert "John" not in str(info.value) and "123" not in str(info.value)


def test_utf16_read_as_8bit_is_repaired_and_other_text_is_left_alone() -> None:
    broken = "CHROMOPHOBE RENAL CELL CARCINOMA\n".encode("utf-16-be").decode("latin-1")
    assert broken.startswith("\x00C\x00H")
    assert repair_nul_interleaved(broken) == ("CHROMOPHOBE RENAL CELL CARCINOMA\n", True)
    # a stray NUL in ordinary text is not this damage: sanitize() turns it into a space later
    assert repair_nul_interleaved("Tumor size 2.3 cm.\x00") == ("Tumor size 2.3 cm.\x00", False)
    assert repair_nul_interleaved("") == ("", False)


@pytest.mark.parametrize("value", [None, 3.5, ["a"], {"text": "a"}])
def test_coerce_rejects_non_text(value: object) -> None:
    with pytest.raises(NotTextError):
        coerce_text(value)


def test_sanitize_keeps_length_and_replaces_odd_characters() -> None:
    text = "a\u200bb\u00a0c\x07d\ud800e\u202ef"
    clean = sanitize(text)
    assert len(clean) == len(text)
    assert clean == "a b c d\ufffde f"
    assert sanitize("plain\ttext\nline") == "plain\ttext\nline"
