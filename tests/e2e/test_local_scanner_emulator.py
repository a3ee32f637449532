"""Local mode's scanner against the emulator: it hears of each new object version, reads
it, tags it as GuardDuty does and publishes one scan-result event per version."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from filetrail.local import notifications
from filetrail.local.scanner import EICAR, LocalScanner, ObjectVersion, fixed_delay
from handlers import schema
from tests.e2e.conftest import poll


@pytest.fixture
def bucket(emulated_aws: Any) -> str:
    name = f"scan-{uuid.uuid4().hex[:12]}"
    s3 = boto3.session.Session().client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


class Published(list[dict[str, Any]]):
    def __call__(self, event: dict[str, Any]) -> None:
        self.append(event)


@pytest.fixture
def published() -> Published:
    return Published()


def _scanner(bucket: str, published: Published, delay: float = 0.0) -> LocalScanner:
    return LocalScanner(
        boto3.session.Session().client("s3"),
        bucket=bucket,
        region="us-east-1",
        publish=published,
        delay=fixed_delay(delay),
    )


@pytest.fixture
def scanning(bucket: str, published: Published) -> Iterator[LocalScanner]:
    """A running scanner that hears of the bucket's new versions from the emulator."""
    scanner = _scanner(bucket, published)

    def observe(moto_bucket: Any, key: Any) -> None:
        scanner.observe(ObjectVersion(moto_bucket.name, key.name, key.version_id, None))

    notifications.observe_created(observe)
    scanner.start()
    yield scanner
    notifications.forget(observe)
    scanner.stop()


def _put(bucket: str, key: str, body: bytes, **extra: Any) -> dict[str, Any]:
    s3 = boto3.session.Session().client("s3")
    return dict(s3.put_object(Bucket=bucket, Key=key, Body=body, **extra))


def _tags(bucket: str, key: str, version_id: str) -> dict[str, str]:
    s3 = boto3.session.Session().client("s3")
    tags = s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)["TagSet"]
    return {t["Key"]: t["Value"] for t in tags}


def _result(event: dict[str, Any]) -> str:
    return str(event["detail"]["scanResultDetails"]["scanResultStatus"])


def test_each_new_version_is_scanned_once_and_names_that_version(bucket, published, scanning):
    first = _put(bucket, "a.txt", b"one\n")
    second = _put(bucket, "a.txt", b"two\n")

    poll(lambda: len(published) >= 2, what="two scan results")

    versions = sorted(e["detail"]["s3ObjectDetails"]["versionId"] for e in published)
    assert versions == sorted([first["VersionId"], second["VersionId"]])
    assert len(published) == 2


def test_eicar_upload_is_found_and_tagged_threats_found(bucket, published, scanning):
    put = _put(bucket, "eicar.txt", EICAR, Tagging="team=blue")

    [event] = poll(lambda: published, what="the scan result")

    assert _result(event) == "THREATS_FOUND"
    assert event["detail"]["scanResultDetails"]["threats"] == [{"name": "EICAR-Test-File"}]
    assert event["detail"]["s3ObjectDetails"]["versionId"] == put["VersionId"]
    assert _tags(bucket, "eicar.txt", put["VersionId"]) == {
        "team": "blue",
        schema.GUARDDUTY_TAG_KEY: "THREATS_FOUND",
    }


def test_local_results_are_marked_as_local_modes(bucket, published, scanning):
    _put(bucket, "marked.txt", b"hello\n")

    [event] = poll(lambda: published, what="the scan result")

    assert event["filetrail"] == {"scanner": "local"}


def test_clean_upload_is_tagged_no_threats_found(bucket, published, scanning):
    put = _put(bucket, "clean.txt", b"hello\n")

    [event] = poll(lambda: published, what="the scan result")

    assert _result(event) == "NO_THREATS_FOUND"
    assert event["detail"]["scanResultDetails"]["threats"] is None
    assert _tags(bucket, "clean.txt", put["VersionId"]) == {
        schema.GUARDDUTY_TAG_KEY: "NO_THREATS_FOUND"
    }


def test_an_object_with_ten_tags_keeps_them_and_still_gets_its_result(bucket, published, scanning):
    """S3 keeps at most 10 tags; GuardDuty then reports a tagging failure and tags nothing:
    https://docs.aws.amazon.com/guardduty/latest/ug/monitor-with-eventbridge-s3-malware-protection.html
    """
    ten = "&".join(f"t{n}=v" for n in range(10))
    put = _put(bucket, "tagged.txt", b"hello\n", Tagging=ten)

    [event] = poll(lambda: published, what="the scan result")

    assert _result(event) == "NO_THREATS_FOUND"
    assert schema.GUARDDUTY_TAG_KEY not in _tags(bucket, "tagged.txt", put["VersionId"])


def test_a_version_deleted_before_its_scan_gets_a_failed_result(bucket, published):
    put = _put(bucket, "gone.txt", b"soon gone\n")
    s3 = boto3.session.Session().client("s3")
    s3.delete_object(Bucket=bucket, Key="gone.txt", VersionId=put["VersionId"])
    scanner = _scanner(bucket, published)

    verdict = scanner.scan(ObjectVersion(bucket, "gone.txt", put["VersionId"], None))

    assert str(verdict.result) == "FAILED"
    assert verdict.scan_status == "FAILED"


def test_versions_of_other_buckets_are_not_scanned(bucket, published):
    scanner = _scanner(bucket, published, delay=3600)

    scanner.observe(ObjectVersion("someone-elses", "a.txt", "v1", None))

    assert scanner.waiting == 0


def test_flush_delivers_a_delayed_result_now(bucket, published):
    put = _put(bucket, "later.txt", b"later\n")
    scanner = _scanner(bucket, published, delay=3600)
    scanner.start()
    try:
        scanner.observe(ObjectVersion(bucket, "later.txt", put["VersionId"], None))
        assert scanner.waiting == 1

        scanner.flush()

        poll(lambda: published, what="the flushed result")
    finally:
        scanner.stop()
    assert scanner.waiting == 0


def test_stop_reports_scans_still_waiting(bucket, published):
    scanner = _scanner(bucket, published, delay=3600)
    scanner.start()
    scanner.observe(ObjectVersion(bucket, "never.txt", "v1", None))

    assert scanner.stop() == 1
    assert published == []
