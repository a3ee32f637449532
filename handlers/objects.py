"""S3 adapter: inspect an upload with one ranged GET, and tag it with its outcome."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.aws_errors import error_code, http_status, translate
from handlers.errors import ObjectArchivedError, ObjectGoneError, ObjectSupersededError
from handlers.events import Upload
from handlers.schema import TAG_KEY, TAG_PENDING, TAG_STORED
from handlers.validation import Inspection

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import TagTypeDef

_CONTENT_RANGE = re.compile(r"^bytes (?:\d+-\d+|\*)/(\d+)$")
_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "NotFound", "404"})
# AccessDenied is what S3 answers for a missing key when the caller may not ListBucket
# (the function's role may not). Other 403s (bad signature, clock skew, disabled account)
# are faults to retry, never a verdict on the file.
_GONE_CODES = _MISSING_CODES | {"AccessDenied", "InvalidArgument"}
_EMPTY_CODES = frozenset({"InvalidRange", "416"})
_SUPERSEDED_CODES = frozenset({"PreconditionFailed", "412"})
_ARCHIVED_CODES = frozenset({"InvalidObjectState"})


def _s3_code(error: ClientError) -> str:
    """S3's error code, else its HTTP status (HEAD answers carry no code)."""
    return error_code(error) or str(http_status(error))


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
            if code in _GONE_CODES:
                raise ObjectGoneError(f"{where}: {code}") from error
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

    def current_version(self, upload: Upload) -> tuple[str | None, str | None, int] | None:
        """(versionId, eTag, size) of what the key serves now, or None (deleted)."""
        where = f"s3://{upload.bucket}/{upload.key}"
        try:
            head = self._client.head_object(Bucket=upload.bucket, Key=upload.key)
        except ClientError as error:
            if _s3_code(error) in _GONE_CODES:
                return None
            raise translate(error, f"look up {where}") from error
        except BotoCoreError as error:
            raise translate(error, f"look up {where}") from error
        etag = head.get("ETag", "").strip('"') or None
        return head.get("VersionId"), etag, int(head.get("ContentLength", 0))

    def tag(self, upload: Upload, value: str, etag: str | None, existing_tags: int | None) -> bool:
        """Set the outcome tag, keeping the uploader's own tags. False if the object is gone.

        `existing_tags` None means unknown (fetch them first). Without a version id, the
        key may have been overwritten since it was read: the tag is checked to have landed
        on the object that was validated, and withdrawn if not (fail closed).
        """
        target: dict[str, Any] = {"Bucket": upload.bucket, "Key": upload.key}
        if upload.version_id:
            target["VersionId"] = upload.version_id
        where = f"s3://{upload.bucket}/{upload.key}"
        try:
            kept: list[TagTypeDef] = []
            if existing_tags is None or existing_tags > 0:
                current = self._client.get_object_tagging(**target)["TagSet"]
                kept = [t for t in current if t["Key"] != TAG_KEY]
            self._client.put_object_tagging(
                **target, Tagging={"TagSet": [*kept, {"Key": TAG_KEY, "Value": value}]}
            )
            if not upload.version_id and value == TAG_STORED and etag:
                self._ensure_tagged_object_is(upload, etag, kept)
        except ClientError as error:
            if _s3_code(error) in _MISSING_CODES:
                return False
            raise translate(error, f"tag {where}") from error
        except BotoCoreError as error:
            raise translate(error, f"tag {where}") from error
        return True

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
