"""On-demand list prices used for the cost figures (us-east-1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PRICES_AS_OF = "2026-11"
PRICES_NOTE = (
    "us-east-1 on-demand list prices as published, checked 2026-11 from memory of the "
    "pricing pages; verify before relying on them. In-region data transfer S3 -> Lambda is free."
)


@dataclass(frozen=True)
class Prices:
    s3_get_per_1000: float = 0.0004
    s3_put_per_1000: float = 0.005  # PUT, COPY, POST, LIST; PutObjectTagging bills as PUT
    dynamodb_write_per_million_wru: float = 0.625  # cut from $1.25 in Nov 2024
    dynamodb_read_per_million_rru: float = 0.125
    lambda_per_gb_second: float = 0.0000166667
    lambda_per_million_requests: float = 0.20

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "asOf": PRICES_AS_OF, "note": PRICES_NOTE}


S3_GET_OPERATIONS = frozenset({"GetObject", "HeadObject", "GetObjectTagging"})
S3_PUT_OPERATIONS = frozenset({"PutObject", "PutObjectTagging", "CopyObject", "ListObjectsV2"})


def cost_per_million(
    prices: Prices,
    *,
    s3_operations: dict[str, int],
    write_units: float,
    read_units: float,
    seconds: float,
    memory_mb: int,
) -> dict[str, float]:
    """USD for one million files, by line, from one file's resource use."""
    million = 1_000_000
    gets = sum(n for op, n in s3_operations.items() if op in S3_GET_OPERATIONS)
    puts = sum(n for op, n in s3_operations.items() if op in S3_PUT_OPERATIONS)
    lines = {
        "s3Requests": million
        * (gets * prices.s3_get_per_1000 + puts * prices.s3_put_per_1000)
        / 1000,
        "dynamodbWrites": write_units * prices.dynamodb_write_per_million_wru,
        "dynamodbReads": read_units * prices.dynamodb_read_per_million_rru,
        "lambdaCompute": million * seconds * (memory_mb / 1024) * prices.lambda_per_gb_second,
        "lambdaRequests": prices.lambda_per_million_requests,
    }
    lines["total"] = sum(lines.values())
    return lines
