"""The FILE argument: `s3://bucket/key`, a documentId, or a bare key in the stack's bucket."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from filetrail.errors import UsageError
from handlers import schema

_DOCUMENT_ID = re.compile(rf"^{re.escape(schema.DOCUMENT_ID_PREFIX)}[0-9a-f]{{32}}$")


@dataclass(frozen=True)
class FileRef:
    document_id: str
    bucket: str | None = None
    key: str | None = None

    @property
    def label(self) -> str:
        if self.bucket is not None and self.key is not None:
            return f"s3://{self.bucket}/{self.key}"
        return self.document_id


def parse_file(text: str, default_bucket: Callable[[], str]) -> FileRef:
    """`default_bucket` is only called for a bare key (it may need the stack)."""
    if not text:
        raise UsageError("FILE must not be empty")
    if text.startswith("s3://"):
        bucket, _, key = text[len("s3://") :].partition("/")
        if not bucket or not key:
            raise UsageError(f"{text!r} is not s3://bucket/key")
        return FileRef(schema.document_id(bucket, key), bucket, key)
    if _DOCUMENT_ID.match(text):
        return FileRef(text)
    bucket = default_bucket()
    return FileRef(schema.document_id(bucket, text), bucket, text)
