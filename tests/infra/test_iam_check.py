"""The evaluator behind the least-privilege test must be able to say no."""

import pytest

from tests.support.iam_check import (
    UnsupportedPolicy,
    check,
    is_allowed,
    parliament_findings,
    retarget,
)

BUCKET = "arn:aws:s3:::uploads"


def _policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: object, resource: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_resource_wildcard_spans_path_segments() -> None:
    policy = _policy(_allow("s3:GetObject", f"{BUCKET}/*"))
    assert is_allowed(policy, "s3:GetObject", f"{BUCKET}/a/b/c.pdf")


def test_resource_of_another_bucket_is_denied() -> None:
    policy = _policy(_allow("s3:GetObject", f"{BUCKET}/*"))
    assert not is_allowed(policy, "s3:GetObject", "arn:aws:s3:::uploads-other/a")


def test_action_match_ignores_case() -> None:
    assert is_allowed(_policy(_allow("S3:getobject", "*")), "s3:GetObject", "x")


def test_action_wildcard_allows_the_service() -> None:
    assert is_allowed(_policy(_allow("s3:*", "*")), "s3:DeleteObject", "x")


def test_denied_call_is_reported() -> None:
    report = check(_policy(_allow("s3:GetObject", f"{BUCKET}/*")), [("s3", "PutObject", BUCKET)])
    assert report.denied == [("s3:PutObject", BUCKET)]


def test_granted_but_unused_action_is_reported() -> None:
    policy = _policy(_allow(["s3:GetObject", "s3:DeleteObject"], f"{BUCKET}/*"))
    report = check(policy, [("s3", "GetObject", f"{BUCKET}/k")])
    assert report.unused == ["s3:deleteobject"]


def test_wildcard_grant_counts_as_unused() -> None:
    report = check(_policy(_allow("s3:*", f"{BUCKET}/*")), [("s3", "GetObject", f"{BUCKET}/k")])
    assert report.unused == ["s3:*"]


def test_ignored_services_are_not_reported_unused() -> None:
    report = check(_policy(_allow("xray:PutTraceSegments", "*")), [], ignore_services=["xray"])
    assert report.ok


def test_operation_whose_action_differs_is_checked_as_its_action() -> None:
    obj = "arn:aws:s3:::b/k"
    report = check(_policy(_allow("s3:PutObject", obj)), [("s3", "HeadObject", obj)])
    assert report.denied == [("s3:GetObject", obj)]


def test_statements_with_conditions_are_refused() -> None:
    statement = {
        **_allow("s3:GetObject", "*"),
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    with pytest.raises(UnsupportedPolicy):
        is_allowed(_policy(statement), "s3:GetObject", "x")


def test_parliament_flags_an_object_action_on_a_bucket_arn() -> None:
    assert parliament_findings(_policy(_allow("s3:GetObject", BUCKET))) != []


def test_retarget_moves_object_calls_to_the_deployed_bucket() -> None:
    calls = [("s3", "GetObject", "arn:aws:s3:::local/a/b.pdf"), ("sqs", "SendMessage", "q1")]
    moved = retarget(calls, {"arn:aws:s3:::local": "arn:aws:s3:::deployed", "q1": "q2"})
    assert moved == [
        ("s3", "GetObject", "arn:aws:s3:::deployed/a/b.pdf"),
        ("sqs", "SendMessage", "q2"),
    ]


def test_retarget_leaves_similarly_named_buckets_alone() -> None:
    calls = [("s3", "GetObject", "arn:aws:s3:::local-other/k")]
    assert retarget(calls, {"arn:aws:s3:::local": "arn:aws:s3:::deployed"}) == calls
