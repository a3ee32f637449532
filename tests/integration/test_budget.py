"""Per processed file on the success path: the requests and bytes the handler spends.

Budget (issue #2): 1 S3 read + 1 tag request, at most 64 KiB read whatever the file
size, at most 2 DynamoDB write requests. Write units are computed from the request
items, and the status index's from the items before and after each write, by DynamoDB's
documented rules (tests/support/capacity.py), since moto reports no consumed capacity.
"""

from __future__ import annotations

import boto3
import pytest

from tests.support.call_recorder import WRITE_OPERATIONS, CallRecorder
from tests.support.capacity import request_write_units
from tests.support.index_meter import IndexWriteMeter
from tests.support.pipeline import Pipeline, provision
from tests.support.samples import ELF, PNG, padded

KIB = 1024
MIB = 1024 * KIB


@pytest.fixture
def recorded(session: boto3.session.Session) -> tuple[Pipeline, CallRecorder]:
    recorder = CallRecorder().attach(session)
    pipeline = provision(session, MAX_FILE_BYTES=str(200 * MIB))
    return pipeline, recorder


@pytest.fixture
def metered(session: boto3.session.Session) -> tuple[Pipeline, IndexWriteMeter]:
    reader = boto3.session.Session(region_name="us-east-1").client("dynamodb")
    meter = IndexWriteMeter(reader).attach(session)
    return provision(session), meter


@pytest.mark.parametrize("size", [KIB, MIB, 100 * MIB], ids=["1KiB", "1MiB", "100MiB"])
def test_success_path_stays_within_budget(
    recorded: tuple[Pipeline, CallRecorder], size: int
) -> None:
    pipeline, recorder = recorded
    record = pipeline.upload("big.png", padded(PNG, size))
    recorder.reset()

    pipeline.process(record)
    calls = recorder.requests()

    assert pipeline.types("big.png") == ["RECEIVED", "VALIDATED", "STORED"]
    assert recorder.count("s3", "GetObject") == 1
    assert recorder.count("s3", "PutObjectTagging") == 1
    assert recorder.count("s3") == 2
    assert recorder.bytes_read == min(size, 64 * KIB)
    writes = [c for c in calls if c.operation in WRITE_OPERATIONS]
    assert [c.operation for c in writes] == ["TransactWriteItems", "TransactWriteItems"]
    assert sum(request_write_units(c.operation, c.params) for c in writes) <= 14


def test_duplicate_delivery_costs_one_read_and_no_write(
    recorded: tuple[Pipeline, CallRecorder],
) -> None:
    pipeline, recorder = recorded
    record = pipeline.upload("doc.png", padded(PNG, KIB))
    pipeline.process(record)
    recorder.reset()

    pipeline.process(record)

    assert [(c.service, c.operation) for c in recorder.calls] == [("dynamodb", "BatchGetItem")]


def test_success_path_writes_the_status_index_three_units(
    metered: tuple[Pipeline, IndexWriteMeter],
) -> None:
    """PROCESSING enters the sparse index (1 put), SUCCESS changes its key (delete + put):
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html"""
    pipeline, meter = metered
    record = pipeline.upload("doc.png", padded(PNG, KIB))

    pipeline.process(record)

    assert pipeline.types("doc.png") == ["RECEIVED", "VALIDATED", "STORED"]
    assert meter.units == 3


def test_rejected_path_writes_the_status_index_three_units(
    metered: tuple[Pipeline, IndexWriteMeter],
) -> None:
    pipeline, meter = metered
    record = pipeline.upload("doc.png", padded(ELF, KIB))

    pipeline.process(record)

    assert pipeline.types("doc.png") == ["RECEIVED", "REJECTED"]
    assert meter.units == 3


def test_duplicate_delivery_writes_no_index_unit(
    metered: tuple[Pipeline, IndexWriteMeter],
) -> None:
    pipeline, meter = metered
    record = pipeline.upload("doc.png", padded(PNG, KIB))
    pipeline.process(record)
    meter.reset()

    pipeline.process(record)

    assert meter.units == 0


def test_unsafe_name_is_rejected_without_reading_the_object(
    recorded: tuple[Pipeline, CallRecorder],
) -> None:
    """The name alone decides: the object's bytes are never fetched."""
    pipeline, recorder = recorded
    key = "x" * 300 + ".png"
    record = pipeline.upload(key, padded(PNG, KIB))
    recorder.reset()

    pipeline.process(record)

    assert [(str(e.type), e.reason) for e in pipeline.events(key)] == [
        ("RECEIVED", None),
        ("REJECTED", "UNSAFE_NAME"),
    ]
    assert recorder.count("s3", "GetObject") == 0
