"""Decide whether an upload is acceptable from its name, size and first bytes. Pure.

The content type is detected from magic bytes (the `filetype` library), then checked
against the file extension, the declared Content-Type and the allow-list. A mismatch
between what a file claims to be and what its bytes say is the attack (an executable
named `.jpg`, HTML served as an image), so it is checked before the allow-list.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import filetype

from handlers.schema import Reason

MAX_NAME_BYTES = 255
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
TEXT = "text/plain"
HTML = "text/html"
SVG = "image/svg+xml"
# Active content: a wildcard such as `image/*` never admits these; list them explicitly.
ACTIVE_TYPES = frozenset({SVG, HTML})

_TEXT_EXTENSIONS = {
    "txt": TEXT,
    "text": TEXT,
    "log": TEXT,
    "csv": "text/csv",
    "md": "text/markdown",
    "json": "application/json",
    "html": HTML,
    "htm": HTML,
    "svg": SVG,
}
_ALIASES = {
    "jpeg": "image/jpeg",
    "jpe": "image/jpeg",
    "tiff": "image/tiff",
    "mid": "audio/midi",
    "mpeg": "video/mpeg",
    "jfif": "image/jpeg",
}
EXTENSION_TYPES: Mapping[str, str] = {
    **{kind.extension.lower(): kind.mime for kind in filetype.types},
    **_ALIASES,
    **_TEXT_EXTENSIONS,
}
_SVG = re.compile(r"<svg[\s>/]")
_MARKUP = re.compile(
    r"<\s*/?\s*(?:!doctype\s+html|html|head|body|script|iframe|frame|object|embed|applet|meta|link"
    r"|style|form|img|image|svg|math|base|xml|\?xml)\b"
    r"|javascript\s*:|<[a-z][^>]*\son[a-z]+\s*="
)
_TEXT_FAMILY = frozenset(
    {TEXT, "text/csv", "text/tab-separated-values", "text/markdown", "application/json"}
)
# Types whose magic bytes another type's detector also matches.
_EQUIVALENT = (
    frozenset({"image/png", "image/apng"}),
    frozenset({"application/zip", "application/epub+zip"}),
)


@dataclass(frozen=True)
class Inspection:
    """What one ranged GET tells about an object."""

    total_size: int
    header: bytes
    content_type: str | None = None
    etag: str | None = None
    version_id: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    tag_count: int | None = 0  # None: unknown (an empty object's 416 carries no headers)


@dataclass(frozen=True)
class Policy:
    max_file_bytes: int
    allowed_types: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: Reason | None
    message: str
    file_type: str | None
    size: int


def check_name(key: str) -> str | None:
    """Why a key is unsafe to record and serve, or None."""
    name = posixpath.basename(key)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"file name is longer than {MAX_NAME_BYTES} bytes"
    for char in key:
        if unicodedata.category(char) in UNSAFE_CATEGORIES:
            return f"name contains the control or format character U+{ord(char):04X}"
    if any(part in (".", "..") for part in key.split("/")):
        return "name contains a '.' or '..' path segment"
    return None


def detect_type(header: bytes, truncated: bool) -> str | None:
    """MIME type from magic bytes; text when the bytes are clean UTF-8; else None."""
    kind = filetype.guess(header)
    if kind is not None:
        return str(kind.mime)
    if not header or b"\x00" in header:
        return None
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError as error:
        # Only a multi-byte character cut off by the range end is still text.
        if not (truncated and error.reason == "unexpected end of data"):
            return None
        text = header[: error.start].decode("utf-8")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    lowered = text.lower()
    if _SVG.search(lowered):
        return SVG
    if _MARKUP.search(lowered):
        # Browsers sniff markup anywhere in "text"; treat it as the active content it is.
        return HTML
    return TEXT


def extension_of(key: str) -> str | None:
    name = posixpath.basename(key)
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else None


def compatible(expected: str, detected: str) -> bool:
    if expected == detected:
        return True
    if expected in _TEXT_FAMILY and detected == TEXT:
        return True
    return any(expected in group and detected in group for group in _EQUIVALENT)


def is_allowed(file_type: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern == file_type:
            return True
        if (
            "*" in pattern
            and file_type not in ACTIVE_TYPES
            and fnmatch.fnmatchcase(file_type, pattern)
        ):
            return True
    return False


def validate(key: str, inspection: Inspection, policy: Policy) -> Verdict:
    size = inspection.total_size

    def reject(reason: Reason, message: str, file_type: str | None = None) -> Verdict:
        return Verdict(False, reason, message, file_type, size)

    unsafe = check_name(key)
    if unsafe:
        return reject(Reason.UNSAFE_NAME, unsafe)
    if size == 0:
        return reject(Reason.EMPTY_FILE, "the file is empty")
    if size > policy.max_file_bytes:
        return reject(
            Reason.TOO_LARGE, f"{size} bytes is over the {policy.max_file_bytes}-byte limit"
        )
    detected = detect_type(inspection.header, truncated=len(inspection.header) < size)
    if detected is None:
        return reject(
            Reason.TYPE_UNKNOWN, "the content type could not be recognised from its bytes"
        )
    file_type = detected
    ext = extension_of(key)
    expected = EXTENSION_TYPES.get(ext) if ext else None
    if ext and expected is None:
        # An unknown extension (.bat, .ps1, .hta) decides how the file is opened; refuse it.
        return reject(Reason.TYPE_NOT_ALLOWED, f"files named .{ext} are not accepted", detected)
    if expected is not None:
        if not compatible(expected, detected):
            return reject(
                Reason.TYPE_MISMATCH,
                f"the bytes are {detected} but the extension .{ext} says {expected}",
                detected,
            )
        file_type = expected
    declared = (inspection.content_type or "").split(";")[0].strip().lower()
    if (
        declared not in GENERIC_TYPES
        and not compatible(declared, file_type)
        and not compatible(declared, detected)
    ):
        return reject(
            Reason.TYPE_MISMATCH,
            f"the bytes are {detected} but Content-Type says {declared}",
            detected,
        )
    if not is_allowed(file_type, policy.allowed_types):
        return reject(Reason.TYPE_NOT_ALLOWED, f"{file_type} is not an allowed type", file_type)
    return Verdict(True, None, f"{file_type}, {size} bytes", file_type, size)
