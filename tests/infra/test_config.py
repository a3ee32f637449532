from collections.abc import Iterator
from dataclasses import fields
from typing import Any

import pulumi
import pytest
import yaml

from infra.config import ConfigError, PipelineConfig, load_config
from tests.infra.harness import PROJECT, REPO_ROOT


def _project_settings() -> dict[str, dict[str, Any]]:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    settings: dict[str, dict[str, Any]] = project["config"]
    return settings


def _stack_values(stack: str) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())[
        "config"
    ]
    return values


@pytest.fixture(autouse=True)
def _reset_config() -> Iterator[None]:
    yield
    pulumi.runtime.set_all_config({})


def _load(values: dict[str, Any]) -> PipelineConfig:
    pulumi.runtime.set_all_config(
        {k if ":" in k else f"{PROJECT}:{k}": _as_config_string(v) for k, v in values.items()}
    )
    return load_config(pulumi.Config(PROJECT))


def _as_config_string(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_project_uses_python_in_the_venv() -> None:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"


@pytest.mark.parametrize("key", sorted(_project_settings()))
def test_every_setting_declares_type_default_and_description(key: str) -> None:
    declaration = _project_settings()[key]
    assert declaration["type"] in {"string", "integer", "boolean"}
    assert "default" in declaration
    assert declaration["description"].strip()


def test_declared_defaults_load_as_the_program_defaults() -> None:
    defaults = {k: v["default"] for k, v in _project_settings().items()}
    assert _load(defaults) == PipelineConfig()


def test_unset_settings_fall_back_to_the_program_defaults() -> None:
    assert _load({}) == PipelineConfig()


def test_every_program_setting_is_declared() -> None:
    # One declared key per config field (reservedConcurrency maps to reserved_concurrency).
    assert len(_project_settings()) == len(fields(PipelineConfig))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_only_set_declared_settings(stack: str) -> None:
    declared = set(_project_settings())
    project_keys = {k.split(":", 1)[1] for k in _stack_values(stack) if k.startswith(f"{PROJECT}:")}
    assert project_keys <= declared


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_set_a_region(stack: str) -> None:
    assert _stack_values(stack)["aws:region"]


def test_prod_protects_the_table_and_reserves_concurrency() -> None:
    prod = _load(_stack_values("prod"))
    assert prod.deletion_protection is True
    assert prod.reserved_concurrency == 50
    assert prod.force_destroy is False


# Names reserved so that mail to them can never be delivered (RFC 2606, RFC 6761).
RESERVED_MAIL_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_MAIL_TLDS = ("example", "invalid", "localhost", "test")


def _never_confirms(address: str) -> bool:
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return domain.rpartition(".")[2] in RESERVED_MAIL_TLDS or any(
        domain == reserved or domain.endswith("." + reserved) for reserved in RESERVED_MAIL_DOMAINS
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_files_subscribe_no_address_that_can_never_confirm(stack: str) -> None:
    """An SNS email subscription stays pending until someone follows the link AWS mails,
    so an address at a reserved domain means alarms that reach no one."""
    assert not _never_confirms(str(_stack_values(stack).get(f"{PROJECT}:alarmEmail", "")))


@pytest.mark.parametrize(
    "address",
    [
        "ops@example.com",
        "ops@alerts.example.org",
        "ops@EXAMPLE.NET",
        "ops@team.test",
        "a@b.invalid",
    ],
)
def test_alarm_email_at_a_reserved_domain_is_refused(address: str) -> None:
    with pytest.raises(ConfigError, match="alarmEmail"):
        PipelineConfig(alarm_email=address)


def test_dev_can_be_destroyed_with_its_objects() -> None:
    assert _load(_stack_values("dev")).force_destroy is True


def test_minus_one_means_unreserved_concurrency() -> None:
    assert _load({"reservedConcurrency": -1}).reserved_concurrency is None


def test_settings_are_read_from_the_project_namespace() -> None:
    loaded = _load({"architecture": "x86_64", "memorySize": 256, "tagObjects": True})
    assert (loaded.architecture, loaded.memory_size_mb) == ("x86_64", 256)


@pytest.mark.parametrize(
    "bad",
    [
        {"architecture": "sparc"},
        {"memory_size_mb": 64},
        {"timeout_seconds": 901},
        {"log_retention_days": 31},
        {"log_level": "TRACE"},
        {"reserved_concurrency": 0},
        {"header_bytes": 65537},
        {"allowed_types": " "},
        {"max_retry_attempts": 3},
        {"max_event_age_seconds": 30},
        {"rejected_retention_days": 0},
        {"alarm_email": "not-an-address"},
        {"rejection_rate_threshold_percent": 0},
        {"status_index_shards": 0},
        {"status_index_shards": 33},
    ],
)
def test_out_of_range_setting_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        PipelineConfig(**bad)


def test_quarantine_requires_tagging() -> None:
    with pytest.raises(ConfigError, match="quarantine needs tagObjects"):
        PipelineConfig(tag_objects=False, quarantine=True)


def test_malware_scanning_is_off_by_default() -> None:
    assert PipelineConfig().malware_scan == "none"


def test_dev_does_not_scan_and_prod_scans_with_guardduty() -> None:
    assert _load(_stack_values("dev")).malware_scan == "none"
    assert _load(_stack_values("prod")).malware_scan == "guardduty"


def test_an_unknown_scanner_is_refused_naming_the_allowed_values() -> None:
    with pytest.raises(
        ConfigError, match=r"malwareScan must be one of none, guardduty, got 'clamav'"
    ):
        PipelineConfig(malware_scan="clamav")


def test_scanning_needs_the_quarantine() -> None:
    with pytest.raises(ConfigError, match="malwareScan 'guardduty' needs quarantine"):
        PipelineConfig(malware_scan="guardduty", quarantine=False)


@pytest.mark.parametrize("minutes", [4, 0, -1, 7 * 24 * 60 + 1])
def test_processing_wait_alarm_outside_its_range_is_refused(minutes: int) -> None:
    with pytest.raises(ConfigError, match="processingWaitAlarmMinutes"):
        PipelineConfig(processing_wait_alarm_minutes=minutes)


def test_malware_settings_are_read_from_the_stack() -> None:
    loaded = _load({"malwareScan": "guardduty", "processingWaitAlarmMinutes": 45})
    assert (loaded.malware_scan, loaded.processing_wait_alarm_minutes) == ("guardduty", 45)
