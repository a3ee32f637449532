"""S3 adapter: inspect an upload with one ranged GET, and tag it with its outcome."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.aws_errors import error_code, http_status, translate
from handlers.errors import (
    ObjectArchivedError,
    ObjectEncryptedError,
    ObjectGoneError,
    ObjectSupersededError,
)
from handlers.events import Upload
from handlers.schema import GUARDDUTY_TAG_KEY, TAG_KEY, TAG_PENDING, TAG_STORED
from handlers.validation import Inspection

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import TagTypeDef

_CONTENT_RANGE = re.compile(r"^bytes (?:\d+-\d+|\*)/(\d+)$")
# The function's role holds s3:ListBucket, so S3 answers a missing key or version with 404
# (NoSuchKey, NoSuchVersion; a HEAD has no body, only the status). Without ListBucket it
# would answer 403, indistinguishable from a real denial (a KMS key the role cannot use, a
# policy deny, a bad signature): every 403 is therefore a fault to retry, never a verdict.
# https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "NotFound", "404"})
_EMPTY_CODES = frozenset({"InvalidRange", "416"})
_SUPERSEDED_CODES = frozenset({"PreconditionFailed", "412"})
_ARCHIVED_CODES = frozenset({"InvalidObjectState"})
# What S3 answers a read of an SSE-C object made without the customer's key: the pipeline
# can never read it. (The bucket policy refuses such uploads; this covers older objects.)
_CUSTOMER_KEY_CODES = frozenset({"InvalidRequest"})
_CUSTOMER_KEY_HINT = "server side encryption"
# S3 allows at most 10 tags on an object; the outcome tag needs one of them.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
MAX_OBJECT_TAGS = 10


@dataclass(frozen=True)
class Tagging:
    """What tagging did: whether the object was still there, and uploader tags it removed."""

    applied: bool
    dropped: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ServedVersion:
    """The version a key serves now (a HEAD without version id)."""

    version_id: str | None
    etag: str | None
    size: int


def _s3_code(error: ClientError) -> str:
    """S3's error code, else its HTTP status (HEAD answers carry no code)."""
    return error_code(error) or str(http_status(error))


def _message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


class ObjectStore:
    def __init__(self, client: S3Client, header_bytes: int) -> None:
        self._client = client
        self._header_bytes = header_bytes

    def inspect(self, upload: Upload) -> Inspection:
        """First bytes and metadata of exactly the version the notification names."""
        params: dict[str, Any] = {
            "Bucket": upload.bucket,
            "Key": upload.key,
            "Range": f"bytes=0-{self._header_bytes - 1}",
        }
        if upload.version_id:
            params["VersionId"] = upload.version_id
        elif upload.etag:
            # Unversioned bucket: refuse to inspect a newer upload under this notification.
            params["IfMatch"] = f'"{upload.etag}"'
        try:
            response = self._client.get_object(**params)
        except ClientError as error:
            code = _s3_code(error)
            where = f"s3://{upload.bucket}/{upload.key}"
            if code in _EMPTY_CODES:
                # S3 answers 416 to any range on an empty object.
                return Inspection(
                    total_size=0, header=b"", version_id=upload.version_id, tag_count=None
                )
            if code in _SUPERSEDED_CODES:
                raise ObjectSupersededError(f"{where} changed since") from error
            if code in _ARCHIVED_CODES:
                raise ObjectArchivedError(f"{where} is archived and needs a restore") from error
            if code in _MISSING_CODES:
                raise ObjectGoneError(f"{where}: {code}") from error
            if code in _CUSTOMER_KEY_CODES and _CUSTOMER_KEY_HINT in _message(error).lower():
                raise ObjectEncryptedError(
                    f"{where} is encrypted with a customer-provided key (SSE-C)"
                ) from error
            raise translate(error, f"read {where}") from error
        except BotoCoreError as error:
            raise translate(error, f"read s3://{upload.bucket}/{upload.key}") from error
        body = response["Body"]
        try:
            header = body.read(self._header_bytes)
        except BotoCoreError as error:
            raise translate(error, f"read s3://{upload.bucket}/{upload.key}") from error
        finally:
            body.close()
        match = _CONTENT_RANGE.match(response.get("ContentRange", ""))
        total = int(match.group(1)) if match else int(response.get("ContentLength", len(header)))
        return Inspection(
            total_size=total,
            header=header,
            content_type=response.get("ContentType"),
            etag=response.get("ETag", "").strip('"') or None,
            version_id=response.get("VersionId") or upload.version_id,
            metadata=dict(response.get("Metadata", {})),
            tag_count=int(response.get("TagCount", 0) or 0),
        )

    def current_version(self, upload: Upload) -> ServedVersion | None:
        """The version the key serves now, or None (no version, or a delete marker)."""
        where = f"s3://{upload.bucket}/{upload.key}"
        try:
            head = self._client.head_object(Bucket=upload.bucket, Key=upload.key)
        except ClientError as error:
            if _s3_code(error) in _MISSING_CODES:
                return None
            raise translate(error, f"look up {where}") from error
        except BotoCoreError as error:
            raise translate(error, f"look up {where}") from error
        etag = head.get("ETag", "").strip('"') or None
        return ServedVersion(head.get("VersionId"), etag, int(head.get("ContentLength", 0)))

    def tags_to_drop(self, upload: Upload) -> tuple[tuple[str, str], ...]:
        """The uploader's tags a `tag` now would remove to make room (a read, no write)."""
        target: dict[str, Any] = {"Bucket": upload.bucket, "Key": upload.key}
        if upload.version_id:
            target["VersionId"] = upload.version_id
        try:
            current = self._client.get_object_tagging(**target)["TagSet"]
        except ClientError as error:
            if _s3_code(error) in _MISSING_CODES:
                return ()
            raise translate(error, f"read the tags of s3://{upload.bucket}/{upload.key}") from error
        except BotoCoreError as error:
            raise translate(error, f"read the tags of s3://{upload.bucket}/{upload.key}") from error
        return tuple((t["Key"], t["Value"]) for t in _by_keep_order(current)[MAX_OBJECT_TAGS - 1 :])

    def tag(
        self, upload: Upload, value: str, etag: str | None, existing_tags: int | None
    ) -> Tagging:
        """Set the outcome tag, keeping the uploader's own tags as far as S3's limit allows.

        An object that already carries 10 tags has no room for the outcome tag: the
        uploader's tags that sort last by key are removed to make room, and reported, so
        the event records them and nothing is lost. `existing_tags` None means unknown
        (fetch them first). Without a version id, the key may have been overwritten since
        it was read: the tag is checked to have landed on the object that was validated,
        and withdrawn if not (fail closed).
        """
        target: dict[str, Any] = {"Bucket": upload.bucket, "Key": upload.key}
        if upload.version_id:
            target["VersionId"] = upload.version_id
        where = f"s3://{upload.bucket}/{upload.key}"
        try:
            kept: list[TagTypeDef] = []
            if existing_tags is None or existing_tags > 0:
                current = self._client.get_object_tagging(**target)["TagSet"]
                kept = _by_keep_order(current)
            room = MAX_OBJECT_TAGS - 1
            dropped = tuple((t["Key"], t["Value"]) for t in kept[room:])
            kept = kept[:room]
            self._client.put_object_tagging(
                **target, Tagging={"TagSet": [*kept, {"Key": TAG_KEY, "Value": value}]}
            )
            if not upload.version_id and value == TAG_STORED and etag:
                self._ensure_tagged_object_is(upload, etag, kept)
        except ClientError as error:
            if _s3_code(error) in _MISSING_CODES:
                return Tagging(applied=False)
            raise translate(error, f"tag {where}") from error
        except BotoCoreError as error:
            raise translate(error, f"tag {where}") from error
        return Tagging(applied=True, dropped=dropped)

    def _ensure_tagged_object_is(self, upload: Upload, etag: str, kept: list[TagTypeDef]) -> None:
        try:
            self._client.head_object(Bucket=upload.bucket, Key=upload.key, IfMatch=f'"{etag}"')
        except ClientError as error:
            if _s3_code(error) not in _SUPERSEDED_CODES | _MISSING_CODES:
                raise
            # A newer upload took the key between read and tag: mark it pending, so the
            # quarantine keeps it unreadable (and unexpired) until its own turn comes.
            self._client.put_object_tagging(
                Bucket=upload.bucket,
                Key=upload.key,
                Tagging={"TagSet": [*kept, {"Key": TAG_KEY, "Value": TAG_PENDING}]},
            )


def _by_keep_order(tags: list[TagTypeDef]) -> list[TagTypeDef]:
    """The tags to keep beside the outcome tag, in the order they are kept: GuardDuty's
    scan tag first (never the one removed), then the uploader's by key."""
    return sorted(
        (t for t in tags if t["Key"] != TAG_KEY),
        key=lambda t: (t["Key"] != GUARDDUTY_TAG_KEY, t["Key"]),
    )
