"""AWS's answers where moto gives others, installed on a handler's own S3 client.

S3 answers a read of a missing key or version with 404 only when the caller holds
`s3:ListBucket` on the bucket, and with 403 AccessDenied otherwise; moto always answers 404.
https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from tests.support.iam_check import is_allowed


def answer_missing_keys_by_policy(
    client: Any, oracle: Any, policy: Mapping[str, Any], bucket_arn: str
) -> None:
    """Make `client` meet a missing object as AWS answers a caller with `policy`.

    `oracle` is a second client on the same emulator, untouched by this hook, that says
    whether the object exists.
    """
    may_list = is_allowed(policy, "s3:ListBucket", bucket_arn)

    def answer(params: dict[str, Any], model: Any, **_: Any) -> None:
        if may_list:
            return
        lookup = {k: params[k] for k in ("Bucket", "Key", "VersionId") if k in params}
        try:
            oracle.head_object(**lookup)
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] != 404:
                raise
            # A HEAD answer has no body: botocore takes the status as the code.
            code = "403" if model.name == "HeadObject" else "AccessDenied"
            raise ClientError(
                {
                    "Error": {"Code": code, "Message": "Access Denied"},
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                model.name,
            ) from None

    for operation in ("HeadObject", "GetObject"):
        client.meta.events.register(f"provide-client-params.s3.{operation}", answer)
