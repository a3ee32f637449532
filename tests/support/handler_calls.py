"""Every AWS call the handler makes, recorded live across all of its paths.

The IAM tests check the generated policy against this list instead of a hand-written
one, so a new call in the handler that the policy does not allow fails the suite.
"""

from __future__ import annotations

import functools

import boto3
from moto import mock_aws

from tests.support.call_recorder import ACCOUNT, CallRecorder
from tests.support.pipeline import BUCKET, DLQ, TABLE, provision
from tests.support.s3_events import sqs_event
from tests.support.samples import PDF, PE_EXE

REGION = "us-east-1"
EMULATOR_ARNS = {
    "bucket": f"arn:aws:s3:::{BUCKET}",
    "table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}",
    "queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{DLQ}",
}


@functools.cache
def record_handler_calls() -> tuple[tuple[str, str, str], ...]:
    """(service, IAM action, resource ARN) for every call, on the emulator's resources."""
    with mock_aws():
        recorder = CallRecorder(region=REGION)
        handler_session = boto3.session.Session(region_name=REGION)
        recorder.attach(handler_session)
        pipeline = provision(boto3.session.Session(region_name=REGION), handler_session)
        pipeline.process(pipeline.upload("versioned.pdf", PDF))  # version-scoped read and tag
        pipeline.process(pipeline.upload("tagged.pdf", PDF, tags="team=a"))  # tag merge
        pipeline.process(pipeline.upload("plain.pdf", PDF, with_version=False))  # unversioned
        pipeline.process(pipeline.upload("plain-tagged.pdf", PDF, tags="t=1", with_version=False))
        pipeline.process(pipeline.upload("evil.jpg", PE_EXE))  # rejection
        pipeline.process(pipeline.delete("versioned.pdf"))  # deletion
        current = pipeline.upload("revived.pdf", PDF)
        pipeline.process(pipeline.upload("revived.pdf", PDF + b"%v0\n"))
        pipeline.process(current)
        version = current["s3"]["object"]["versionId"]
        pipeline.process(pipeline.delete_version("revived.pdf", version))  # revalidates
        only = pipeline.upload("only.pdf", PDF)
        pipeline.process(only)
        only_version = only["s3"]["object"]["versionId"]
        pipeline.process(pipeline.delete_version("only.pdf", only_version))  # 404: ListBucket
        pipeline.handle(sqs_event("not json"))  # dead-letter
        return tuple(recorder.triples())
