from __future__ import annotations

import pytest

from handlers.schema import Reason
from handlers.validation import (
    Inspection,
    Policy,
    check_name,
    detect_type,
    extension_of,
    is_allowed,
    validate,
)
from tests.support.samples import ELF, HTML, JPEG, PDF, PE_EXE, PNG, TEXT

POLICY = Policy(max_file_bytes=1000, allowed_types=("image/*", "application/pdf", "text/plain"))


def inspect(header: bytes, size: int | None = None, content_type: str | None = None) -> Inspection:
    return Inspection(
        total_size=len(header) if size is None else size, header=header, content_type=content_type
    )


@pytest.mark.parametrize(
    ("header", "mime"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (PDF, "application/pdf"),
        (PE_EXE, "application/x-msdownload"),
        (ELF, "application/x-executable"),
        (HTML, "text/html"),
        (TEXT, "text/plain"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\x00\x01\x02", None),
    ],
)
def test_type_is_detected_from_magic_bytes(header: bytes, mime: str | None) -> None:
    assert detect_type(header, truncated=False) == mime


def test_utf8_character_cut_by_the_range_end_is_still_text() -> None:
    header = ("a" * 10 + "\u00e9").encode()[:-1]

    assert detect_type(header, truncated=True) == "text/plain"
    assert detect_type(header, truncated=False) is None


def test_valid_png_is_accepted_with_its_type() -> None:
    verdict = validate("a/photo.png", inspect(PNG), POLICY)

    assert (verdict.accepted, verdict.file_type, verdict.reason) == (True, "image/png", None)


@pytest.mark.parametrize(
    ("key", "header", "size", "content_type", "reason"),
    [
        ("x.jpg", PE_EXE, None, None, Reason.TYPE_MISMATCH),
        ("x.png", JPEG, None, None, Reason.TYPE_MISMATCH),
        ("x.png", PNG, None, "text/html", Reason.TYPE_MISMATCH),
        ("x.jpg", HTML, None, "image/jpeg", Reason.TYPE_MISMATCH),
        ("x", PE_EXE, None, None, Reason.TYPE_NOT_ALLOWED),
        ("x.html", HTML, None, None, Reason.TYPE_NOT_ALLOWED),
        ("x.png", b"", 0, None, Reason.EMPTY_FILE),
        ("x.png", PNG, 1001, None, Reason.TOO_LARGE),
        ("x.bin", b"\x00\x01\x02\x03", None, None, Reason.TYPE_UNKNOWN),
        ("a\x07b.png", PNG, None, None, Reason.UNSAFE_NAME),
        ("../x.png", PNG, None, None, Reason.UNSAFE_NAME),
        ("x" * 252 + ".png", PNG, None, None, Reason.UNSAFE_NAME),
    ],
)
def test_rejections_carry_their_reason(
    key: str, header: bytes, size: int | None, content_type: str | None, reason: Reason
) -> None:
    verdict = validate(key, inspect(header, size, content_type), POLICY)

    assert (verdict.accepted, verdict.reason) == (False, reason)
    assert verdict.message


def test_exactly_the_limit_is_accepted_and_one_byte_over_is_not() -> None:
    assert validate("x.png", inspect(PNG, 1000), POLICY).accepted
    assert validate("x.png", inspect(PNG, 1001), POLICY).reason == Reason.TOO_LARGE


def test_generic_declared_content_type_is_not_a_mismatch() -> None:
    assert validate("x.pdf", inspect(PDF, content_type="binary/octet-stream"), POLICY).accepted


def test_content_type_parameters_are_ignored() -> None:
    assert validate(
        "n.txt", inspect(TEXT, content_type="text/plain; charset=utf-8"), POLICY
    ).accepted


def test_wildcard_never_admits_active_content() -> None:
    assert not is_allowed("image/svg+xml", ("image/*",))
    assert is_allowed("image/svg+xml", ("image/svg+xml",))
    assert is_allowed("image/webp", ("image/*",))


def test_safe_unicode_name_passes() -> None:
    assert check_name("reports/\u00e9t\u00e9 2026 \U0001f4c4.pdf") is None


@pytest.mark.parametrize("key", ["run.bat", "x.ps1", "x.hta", "x.js", "setup.sh"])
def test_text_under_an_unknown_or_executable_extension_is_not_allowed(key: str) -> None:
    verdict = validate(key, inspect(b"echo hello\n"), POLICY)

    assert verdict.reason == Reason.TYPE_NOT_ALLOWED


@pytest.mark.parametrize(
    "body",
    [
        b"<!-- note --><script>alert(1)</script>",
        b"\x0c<html><body>x</body></html>",
        b"hello <img src=x onerror=alert(1)>",
        b"<!-- comment -->\n<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
        b"see javascript:alert(1)",
    ],
    ids=["comment-script", "formfeed-html", "img-onerror", "comment-svg", "javascript-url"],
)
def test_markup_anywhere_in_text_is_active_content_not_text(body: bytes) -> None:
    verdict = validate("notes.txt", inspect(body), POLICY)

    assert (verdict.accepted, verdict.reason) == (False, Reason.TYPE_MISMATCH)


def test_plain_prose_mentioning_tags_loosely_is_still_text() -> None:
    body = b"if a < b and only = 'x', the onus is on you\n"

    assert validate("notes.txt", inspect(body), POLICY).accepted


def test_an_invalid_byte_at_the_range_end_is_not_text() -> None:
    assert detect_type(b"hello\xff", truncated=True) is None


def test_text_under_an_image_extension_is_a_type_mismatch() -> None:
    verdict = validate("photo.png", inspect(b"just some words, no image here\n"), POLICY)

    assert (verdict.accepted, verdict.reason, verdict.file_type) == (
        False,
        Reason.TYPE_MISMATCH,
        "text/plain",
    )


@pytest.mark.parametrize(
    "body",
    [b'<div onmouseover="alert(1)">hover</div>', b"<p class=x onclick = steal()>hi</p>"],
    ids=["div-onmouseover", "p-onclick"],
)
def test_event_handler_attribute_on_any_tag_is_active_content(body: bytes) -> None:
    """The tag is not one the markup list names: only the `on*=` attribute gives it away."""
    assert detect_type(body, truncated=False) == "text/html"


def test_no_bytes_have_no_type() -> None:
    assert detect_type(b"", truncated=False) is None


def test_the_last_dot_starts_the_extension() -> None:
    assert extension_of("2026/holiday.v2.png") == "png"


def test_a_leading_dot_names_a_hidden_file_not_an_extension() -> None:
    assert extension_of("home/.profile") is None


def test_text_without_an_extension_is_accepted_as_text() -> None:
    verdict = validate("notes/README", inspect(TEXT), POLICY)

    assert (verdict.accepted, verdict.file_type) == (True, "text/plain")


def test_plain_text_under_a_text_family_extension_takes_the_extensions_type() -> None:
    policy = Policy(max_file_bytes=1000, allowed_types=("text/csv",))

    verdict = validate("data.csv", inspect(b"name,size\na.png,12\n"), policy)

    assert (verdict.accepted, verdict.file_type) == (True, "text/csv")
