"""S3 adapter: inspect an upload with one ranged GET, and tag it with its outcome."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from handlers.aws_errors import error_code, http_status, translate
from handlers.errors import ObjectGoneError, ObjectSupersededError
from handlers.events import Upload
from handlers.schema import TAG_KEY
from handlers.validation import Inspection

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import TagTypeDef

_CONTENT_RANGE = re.compile(r"^bytes (?:\d+-\d+|\*)/(\d+)$")
# 403 is what S3 answers for a missing key when the caller may not ListBucket.
_GONE_CODES = frozenset({"NoSuchKey", "NoSuchVersion", "404", "NotFound", "AccessDenied", "403"})
_EMPTY_CODES = frozenset({"InvalidRange", "416"})
_SUPERSEDED_CODES = frozenset({"PreconditionFailed", "412"})


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
            code = error_code(error)
            status = str(http_status(error))
            if code in _EMPTY_CODES or status in _EMPTY_CODES:
                return Inspection(total_size=0, header=b"", version_id=upload.version_id)
            if code in _SUPERSEDED_CODES or status in _SUPERSEDED_CODES:
                raise ObjectSupersededError(
                    f"s3://{upload.bucket}/{upload.key} changed since"
                ) from error
            if code in _GONE_CODES or status in _GONE_CODES or code == "InvalidArgument":
                raise ObjectGoneError(f"s3://{upload.bucket}/{upload.key}: {code}") from error
            raise translate(error, f"read s3://{upload.bucket}/{upload.key}") from error
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

    def tag(self, upload: Upload, value: str, existing_tags: int) -> bool:
        """Set the outcome tag, keeping the uploader's own tags. False if the object is gone."""
        target: dict[str, Any] = {"Bucket": upload.bucket, "Key": upload.key}
        if upload.version_id:
            target["VersionId"] = upload.version_id
        try:
            tags: list[TagTypeDef] = []
            if existing_tags:
                current = self._client.get_object_tagging(**target)["TagSet"]
                tags = [t for t in current if t["Key"] != TAG_KEY]
            tags.append({"Key": TAG_KEY, "Value": value})
            self._client.put_object_tagging(**target, Tagging={"TagSet": tags})
        except ClientError as error:
            if error_code(error) in _GONE_CODES - {"AccessDenied", "403"}:
                return False
            raise translate(error, f"tag s3://{upload.bucket}/{upload.key}") from error
        except BotoCoreError as error:
            raise translate(error, f"tag s3://{upload.bucket}/{upload.key}") from error
        return True
