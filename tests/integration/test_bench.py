"""The benchmark measures every path it reports, for both designs, on one small file."""

from __future__ import annotations

from typing import Any

import pytest

from bench.measure import KIB, measure_size


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return measure_size(KIB, files=1, warmup=0)


def test_bench_measures_the_success_path_with_its_index_writes(figures: dict[str, Any]) -> None:
    success = figures["success"]
    assert (success["filetrail"]["verdict"], success["baseline"]["verdict"]) == (
        "SUCCESS",
        "1 row: SUCCESS",
    )
    assert success["filetrail"]["indexWriteUnits"] == 3
    assert success["filetrail"]["writeUnits"] == success["filetrail"]["tableWriteUnits"] + 3


def test_bench_measures_a_rejected_file_both_designs_refuse(figures: dict[str, Any]) -> None:
    rejected = figures["rejected"]
    assert (rejected["filetrail"]["verdict"], rejected["baseline"]["verdict"]) == (
        "FAILED TYPE_MISMATCH",
        "1 row: FAILED",
    )


def test_bench_measures_a_duplicate_delivery(figures: dict[str, Any]) -> None:
    duplicate = figures["duplicate"]
    assert duplicate["filetrail"]["dynamodbWriteRequests"] == 0
    assert duplicate["filetrail"]["s3Requests"] == 0
    assert duplicate["baseline"]["verdict"] == "2 rows: SUCCESS, SUCCESS"
