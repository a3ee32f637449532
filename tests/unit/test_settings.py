from __future__ import annotations

import pytest

from handlers import schema
from handlers.errors import ConfigurationError
from handlers.settings import Settings


def test_defaults_apply_when_only_the_table_is_set() -> None:
    settings = Settings.from_env({"TABLE_NAME": "audit"})

    assert settings.max_file_bytes == 10 * 1024 * 1024
    assert settings.allowed_types == ("image/*", "application/pdf", "text/plain")
    assert (settings.tag_objects, settings.dlq_url, settings.header_bytes) == (True, None, 65536)


def test_missing_table_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME is required"):
        Settings.from_env({})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(
            {
                "TABLE_NAME": "t",
                "MAX_FILE_BYTES": "ten",
                "ALLOWED_TYPES": "image",
                "TAG_OBJECTS": "maybe",
                "HEADER_BYTES": "999999",
            }
        )

    message = str(caught.value)
    for name in ("MAX_FILE_BYTES", "ALLOWED_TYPES", "TAG_OBJECTS", "HEADER_BYTES"):
        assert name in message


def test_allowed_types_are_normalised() -> None:
    settings = Settings.from_env(
        {"TABLE_NAME": "t", "ALLOWED_TYPES": " Image/PNG , application/pdf ,"}
    )

    assert settings.allowed_types == ("image/png", "application/pdf")


def test_tagging_can_be_switched_off() -> None:
    assert Settings.from_env({"TABLE_NAME": "t", "TAG_OBJECTS": "false"}).tag_objects is False


def test_status_index_shards_default_to_the_schema_default() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t"})

    assert settings.status_index_shards == schema.DEFAULT_STATUS_INDEX_SHARDS


def test_status_index_shards_come_from_the_environment() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t", "STATUS_INDEX_SHARDS": "16"})

    assert settings.status_index_shards == 16


@pytest.mark.parametrize("raw", ["0", "33", "eight"])
def test_status_index_shards_out_of_range_are_refused(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="STATUS_INDEX_SHARDS"):
        Settings.from_env({"TABLE_NAME": "t", "STATUS_INDEX_SHARDS": raw})


def test_malware_scanning_is_off_unless_asked_for() -> None:
    assert Settings.from_env({"TABLE_NAME": "t"}).malware_scan == "none"
    assert Settings.from_env({"TABLE_NAME": "t", "MALWARE_SCAN": " GuardDuty "}).malware_scan == (
        "guardduty"
    )


def test_unknown_malware_scanner_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="MALWARE_SCAN must be one of none, guardduty"):
        Settings.from_env({"TABLE_NAME": "t", "MALWARE_SCAN": "clamav"})
