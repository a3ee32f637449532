"""Deletes in a versioned bucket: a delete marker, or the permanent delete of one version.

Only a delete marker, or the delete of the version the status describes, changes what
the key serves. Removing an old version leaves the file as it was; removing the current
version (or the marker) makes an older version current again, which is validated afresh.
"""

from __future__ import annotations

from typing import Any

import pytest

from handlers.objects import ObjectStore
from handlers.schema import Status
from tests.support.pipeline import Pipeline
from tests.support.samples import PDF, PE_EXE


def version_of(record: dict[str, Any]) -> str:
    return str(record["s3"]["object"]["versionId"])


def test_deleting_an_old_version_leaves_the_file_as_it_is(pipeline: Pipeline) -> None:
    old = pipeline.upload("doc.pdf", PDF)
    pipeline.process(old)
    pipeline.process(pipeline.upload("doc.pdf", PDF + b"%v2\n"))

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(old)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.stage) == (Status.SUCCESS, "STORED")
    last = pipeline.events("doc.pdf")[-1]
    assert (str(last.type), last.details) == ("DELETED", {"scope": "version"})


def test_deleting_the_current_version_revalidates_the_one_now_current(pipeline: Pipeline) -> None:
    bad = pipeline.upload("doc.pdf", PE_EXE)
    pipeline.process(bad)
    good = pipeline.upload("doc.pdf", PDF)
    pipeline.process(good)

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(good)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.reason, status.version_id) == (
        Status.FAILED,
        "TYPE_MISMATCH",
        version_of(bad),
    )
    assert pipeline.types("doc.pdf")[-3:] == ["DELETED", "RECEIVED", "REJECTED"]


def test_deleting_the_delete_marker_brings_the_file_back(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PDF))
    marker = pipeline.delete("doc.pdf")
    pipeline.process(marker)

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(marker)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.SUCCESS


def test_deleting_the_only_version_leaves_the_file_deleted(pipeline: Pipeline) -> None:
    only = pipeline.upload("doc.pdf", PDF)
    pipeline.process(only)

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(only)))

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert status.status == Status.DELETED


def test_redelivered_version_delete_appends_nothing(pipeline: Pipeline) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PE_EXE))
    good = pipeline.upload("doc.pdf", PDF)
    pipeline.process(good)
    deletion = pipeline.delete_version("doc.pdf", version_of(good))
    pipeline.process(deletion)
    before = pipeline.events("doc.pdf")

    pipeline.process(deletion)

    assert pipeline.events("doc.pdf") == before
    doc = before[0].document_id
    assert pipeline.store.replay(doc) == pipeline.store.get_status(doc)


def test_crash_after_the_delete_is_recorded_still_revalidates_on_retry(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline.process(pipeline.upload("doc.pdf", PE_EXE))
    good = pipeline.upload("doc.pdf", PDF)
    pipeline.process(good)
    deletion = pipeline.delete_version("doc.pdf", version_of(good))
    real = ObjectStore.current_version

    def crash(self: ObjectStore, upload: Any) -> Any:
        raise RuntimeError("process died after recording the delete")

    monkeypatch.setattr(ObjectStore, "current_version", crash)
    with pytest.raises(RuntimeError):
        pipeline.process(deletion)
    monkeypatch.setattr(ObjectStore, "current_version", real)

    pipeline.process(deletion)

    status = pipeline.status("doc.pdf")
    assert status is not None
    assert (status.status, status.reason) == (Status.FAILED, "TYPE_MISMATCH")


def test_deleting_a_version_the_status_does_not_show_revalidates_nothing(
    pipeline: Pipeline,
) -> None:
    """The status shows a delete marker; an older version goes while a newer upload, not yet
    notified, is what S3 serves. That upload was not brought back by this delete: its own
    notification records it, so the delete records only itself."""
    old = pipeline.upload("doc.pdf", PDF)
    pipeline.process(old)
    pipeline.process(pipeline.delete("doc.pdf"))
    pipeline.upload("doc.pdf", PDF + b"%v2\n")  # its notification is still on the way
    before = len(pipeline.events("doc.pdf"))

    pipeline.process(pipeline.delete_version("doc.pdf", version_of(old)))

    added = pipeline.events("doc.pdf")[before:]
    assert [(str(e.type), dict(e.details)) for e in added] == [("DELETED", {"scope": "version"})]
