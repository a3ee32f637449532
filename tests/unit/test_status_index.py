"""Write sharding of the status index: which partition a file's status item lands in."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from handlers import schema

SHARD_COUNTS = st.integers(min_value=1, max_value=schema.MAX_STATUS_INDEX_SHARDS)


@given(st.text(min_size=1), SHARD_COUNTS)
def test_shard_is_within_the_count(document_id: str, shards: int) -> None:
    assert 0 <= schema.status_shard(document_id, shards) < shards


def test_shard_depends_only_on_the_document_and_the_count() -> None:
    document_id = schema.document_id("uploads", "reports/q3.pdf")

    # A literal, not a second call: the handler and the CLI run in different processes,
    # so the shard must not depend on Python's per-process hash seed.
    assert schema.status_shard(document_id, 8) == 1


def test_one_shard_puts_every_file_in_shard_zero() -> None:
    ids = [schema.document_id("uploads", f"f{n}") for n in range(50)]

    assert {schema.status_shard(document_id, 1) for document_id in ids} == {0}


def test_files_spread_evenly_over_the_shards() -> None:
    ids = [schema.document_id("uploads", f"incoming/{n:05d}.pdf") for n in range(8000)]

    per_shard = Counter(schema.status_shard(document_id, 8) for document_id in ids)

    # 1,000 expected per shard; a binomial spread of 8,000 over 8 has sigma ~30.
    assert sorted(per_shard) == list(range(8))
    assert all(900 <= count <= 1100 for count in per_shard.values()), per_shard


def test_shard_zero_is_the_bare_status_an_unsharded_table_holds() -> None:
    assert schema.status_index_key(schema.Status.SUCCESS, 0) == "SUCCESS"


def test_other_shards_append_their_number_to_the_status() -> None:
    assert schema.status_index_keys("FAILED", 3) == ("FAILED", "FAILED#1", "FAILED#2")


def test_every_status_and_shard_is_its_own_partition() -> None:
    keys = [
        key
        for status in schema.Status
        for key in schema.status_index_keys(status, schema.MAX_STATUS_INDEX_SHARDS)
    ]

    assert len(keys) == len(set(keys))
