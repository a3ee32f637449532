from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.errors import InvalidEventError
from handlers.events import (
    InvalidRecord,
    S3TestEvent,
    UploadRecord,
    decode_key,
    parse_notification,
    parse_s3_record,
)
from tests.support.s3_events import encode_key, load_fixture, sqs_event

RECORD = load_fixture("s3-object-created.json")["Records"][0]


def test_real_record_parses_into_its_upload_identity() -> None:
    upload = parse_s3_record(RECORD)

    assert (upload.bucket, upload.key, upload.event_name) == (
        "amzn-s3-demo-bucket",
        "uploads/HappyFace.jpg",
        "ObjectCreated:Put",
    )
    assert (upload.size, upload.version_id, upload.sequencer) == (
        1024,
        "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        "0055AED6DCD90281E5",
    )


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("my+file.txt", "my file.txt"),
        ("a%2Bb.txt", "a+b.txt"),
        ("caf%C3%A9.png", "caf\u00e9.png"),
        ("dir/sub+dir/x%25y.pdf", "dir/sub dir/x%y.pdf"),
    ],
)
def test_keys_are_form_url_decoded(raw: str, key: str) -> None:
    assert decode_key(raw) == key


def test_key_that_is_not_utf8_once_decoded_is_invalid() -> None:
    with pytest.raises(InvalidEventError, match="UTF-8"):
        decode_key("bad%FF.txt")


@given(
    st.text(min_size=1, max_size=300).filter(
        lambda k: len(k.encode("utf-8", "surrogatepass")) <= 1024
    )
)
def test_decoding_inverts_s3_encoding_for_any_key(key: str) -> None:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return  # lone surrogates cannot be S3 keys
    assert decode_key(encode_key(key)) == key


def test_same_notification_has_the_same_upload_key() -> None:
    assert parse_s3_record(RECORD).upload_key == parse_s3_record(copy.deepcopy(RECORD)).upload_key


def test_different_uploads_of_one_key_have_different_upload_keys() -> None:
    other = copy.deepcopy(RECORD)
    other["s3"]["object"]["sequencer"] = "0055AED6DCD90281E6"
    other["s3"]["object"]["versionId"] = "another-version"

    assert parse_s3_record(RECORD).upload_key != parse_s3_record(other).upload_key
    assert parse_s3_record(RECORD).document_id == parse_s3_record(other).document_id


def test_reprocess_marker_makes_a_new_attempt_of_the_same_upload() -> None:
    again = copy.deepcopy(RECORD)
    again["filetrail"] = {"reprocessId": "r-1"}

    assert parse_s3_record(again).upload_key != parse_s3_record(RECORD).upload_key


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("s3", "object", "size"), -1, "size"),
        (("s3", "object", "size"), "12", "size"),
        (("s3", "object", "sequencer"), "not-hex", "sequencer"),
        (("s3", "bucket", "name"), 7, "s3.bucket.name"),
        (("s3", "object", "key"), "", "s3.object.key"),
        (("s3", "object", "versionId"), 5, "versionId"),
        (("eventTime",), "yesterday", "eventTime"),
        # A valid ISO 8601 time whose UTC instant is outside what datetime can hold.
        (("eventTime",), "0001-01-01T00:00:00+01:00", "eventTime"),
    ],
)
def test_malformed_fields_are_named_in_the_error(
    path: tuple[str, ...], value: object, message: str
) -> None:
    record = copy.deepcopy(RECORD)
    target = record
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    with pytest.raises(InvalidEventError, match=message):
        parse_s3_record(record)


def test_over_long_key_is_invalid() -> None:
    record = copy.deepcopy(RECORD)
    record["s3"]["object"]["key"] = "k" * 1025

    with pytest.raises(InvalidEventError, match="longer"):
        parse_s3_record(record)


def test_sqs_wrapped_records_carry_their_message_id() -> None:
    event = sqs_event({"Records": [RECORD, RECORD]})

    parsed = list(parse_notification(event))

    assert [type(p) for p in parsed] == [UploadRecord, UploadRecord]
    assert {p.message_id for p in parsed} == {event["Records"][0]["messageId"]}


def test_test_event_inside_sqs_is_recognised() -> None:
    (parsed,) = parse_notification(sqs_event(load_fixture("s3-test-event.json")))

    assert isinstance(parsed, S3TestEvent)
    assert parsed.bucket == "amzn-s3-demo-bucket"


@pytest.mark.parametrize(
    "event",
    [None, [], {}, {"Records": []}, {"Records": "x"}, sqs_event("{"), sqs_event(json.dumps([1]))],
    ids=[
        "none",
        "list",
        "empty",
        "no-records",
        "records-not-list",
        "body-not-json",
        "body-not-event",
    ],
)
def test_unparseable_events_become_invalid_records(event: object) -> None:
    parsed = list(parse_notification(event))

    assert parsed
    assert all(isinstance(p, InvalidRecord) for p in parsed)


def test_without_a_sequencer_the_event_time_tells_two_uploads_of_the_same_bytes_apart() -> None:
    """The same bytes put twice into an unversioned bucket: same key, name and eTag."""
    first = copy.deepcopy(RECORD)
    del first["s3"]["object"]["sequencer"]
    del first["s3"]["object"]["versionId"]
    again = copy.deepcopy(first)
    again["eventTime"] = "2026-11-28T11:00:00.000Z"

    assert parse_s3_record(first).upload_key != parse_s3_record(again).upload_key
