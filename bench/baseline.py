"""The straightforward design most samples show: read the whole object, guess its type,
write one item under a random id.

Written the way the samples write it, on purpose: it is the yardstick, not a strawman.
It does less than filetrail, and the benchmark's figures should be read with that in mind.

What it does: one full `GetObject`, `filetype.guess` on the whole body, the size limit
and the allow-list checked against the detected type, one `PutItem` of the seed schema
under a random uuid, one print per file.

What it leaves out, that filetrail does: no extension or Content-Type check (a PDF named
`.png` is a SUCCESS here, a TYPE_MISMATCH in filetrail), no name check, no tag (so no
quarantine: nothing stops a read before validation), no event history or status index,
no idempotency (a redelivered notification writes a second row), no ordering of uploads
of one key, no handling of deletes, no dead-letter queue for notifications that can
never succeed, no tracing.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import filetype

BASELINE_TABLE = "baseline-files"
ALLOWED_PREFIXES = ("image/", "application/pdf", "text/plain")


def create_table_request(table_name: str = BASELINE_TABLE) -> dict[str, Any]:
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    }


class BaselineHandler:
    def __init__(self, s3: Any, dynamodb: Any, table_name: str, max_file_bytes: int) -> None:
        self._s3 = s3
        self._dynamodb = dynamodb
        self._table = table_name
        self._max = max_file_bytes

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        for record in event["Records"]:
            bucket = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])
            response = self._s3.get_object(Bucket=bucket, Key=key)
            body = response["Body"].read()
            kind = filetype.guess(body)
            file_type = kind.mime if kind else "unknown"
            ok = len(body) <= self._max and file_type.startswith(ALLOWED_PREFIXES)
            item = {
                "id": {"S": str(uuid.uuid4())},
                "fileName": {"S": key},
                "fileType": {"S": file_type},
                "fileSize": {"N": str(len(body))},
                "status": {"S": "SUCCESS" if ok else "FAILED"},
                "uploadedAt": {"S": datetime.now(UTC).isoformat()},
            }
            self._dynamodb.put_item(TableName=self._table, Item=item)
            print(json.dumps({"file": key, "status": item["status"]["S"]}))
        return {"statusCode": 200}
