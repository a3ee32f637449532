"""Stack settings, read once from Pulumi config into one typed, validated object.

Every key here is declared (type, default, description) in Pulumi.yaml; the defaults below
repeat those declarations so the program also runs where the project file is not consulted
(unit tests). `tests/infra/test_config.py` pins the two lists together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

import pulumi

from handlers import schema

Architecture = Literal["arm64", "x86_64"]
ARCHITECTURES: tuple[Architecture, ...] = ("arm64", "x86_64")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Lambda's asynchronous invocation limits (EventInvokeConfig API).
MAX_RETRY_ATTEMPTS = 2
MIN_EVENT_AGE_SECONDS = 60
MAX_EVENT_AGE_SECONDS = 21_600
# Values CloudWatch Logs accepts for retentionInDays (0 = never expire is deliberately absent).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
MAX_LAMBDA_MEMORY_MB = 10_240
# Domains reserved so that mail to them is never delivered (RFC 2606, RFC 6761): an alarm
# subscription there stays pending forever and the alarms reach no one.
UNDELIVERABLE_MAIL_DOMAINS = ("example.com", "example.net", "example.org")
UNDELIVERABLE_MAIL_TLDS = ("example", "invalid", "localhost", "test")
MAX_LAMBDA_TIMEOUT_SECONDS = 900
# Event source mapping limits for a stream (CreateEventSourceMapping API).
MAX_STREAM_RETRY_ATTEMPTS = 10_000
# The watchdog runs every 5 minutes; a shorter threshold could only ever alarm late. A week
# is far beyond any scan GuardDuty documents, so a larger value is surely a typo.
MIN_PROCESSING_WAIT_ALARM_MINUTES = 5
MAX_PROCESSING_WAIT_ALARM_MINUTES = 7 * 24 * 60
_SQS_ARN = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")


@dataclass(frozen=True)
class QueueSubscription:
    """An application's SQS queue subscribed to file events, optionally only some outcomes."""

    arn: str
    outcomes: tuple[str, ...] = ()


class ConfigError(ValueError):
    """A stack setting is out of range; raised before any resource is declared."""


@dataclass(frozen=True)
class PipelineConfig:
    architecture: Architecture = "arm64"
    memory_size_mb: int = 512
    timeout_seconds: int = 60
    log_retention_days: int = 30
    log_level: str = "INFO"
    reserved_concurrency: int | None = None
    max_file_bytes: int = schema.DEFAULT_MAX_FILE_BYTES
    allowed_types: str = schema.DEFAULT_ALLOWED_TYPES
    header_bytes: int = schema.DEFAULT_HEADER_BYTES
    tag_objects: bool = True
    quarantine: bool = True
    max_retry_attempts: int = MAX_RETRY_ATTEMPTS
    max_event_age_seconds: int = 3_600
    notification_prefix: str = ""
    notification_suffix: str = ""
    noncurrent_version_days: int = 30
    rejected_retention_days: int = 30
    abort_multipart_days: int = 7
    deletion_protection: bool = False
    force_destroy: bool = False
    alarm_email: str = ""
    rejection_rate_threshold_percent: int = 25
    status_index_shards: int = schema.DEFAULT_STATUS_INDEX_SHARDS
    notifications: bool = True
    notification_email: str = ""
    notification_queues: tuple[QueueSubscription, ...] = ()
    notifier_max_retries: int = 3
    iterator_age_alarm_seconds: int = 300
    malware_scan: str = schema.MALWARE_SCAN_NONE
    processing_wait_alarm_minutes: int = 30

    def __post_init__(self) -> None:
        _validate(self)


def _validate(cfg: PipelineConfig) -> None:
    problems: list[str] = []
    if cfg.architecture not in ARCHITECTURES:
        problems.append(f"architecture must be one of {ARCHITECTURES}, got {cfg.architecture!r}")
    if not 128 <= cfg.memory_size_mb <= MAX_LAMBDA_MEMORY_MB:
        problems.append("memorySize must be between 128 and 10240 MB")
    if not 1 <= cfg.timeout_seconds <= MAX_LAMBDA_TIMEOUT_SECONDS:
        problems.append("timeoutSeconds must be between 1 and 900")
    if cfg.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(f"logRetentionDays must be one of {LOG_RETENTION_DAYS}")
    if cfg.log_level not in LOG_LEVELS:
        problems.append(f"logLevel must be one of {LOG_LEVELS}")
    if cfg.reserved_concurrency is not None and cfg.reserved_concurrency < 1:
        problems.append("reservedConcurrency must be >= 1, or -1 for unreserved")
    if cfg.max_file_bytes < 1:
        problems.append("maxFileBytes must be positive")
    if not 1 <= cfg.header_bytes <= schema.MAX_HEADER_BYTES:
        problems.append(f"headerBytes must be between 1 and {schema.MAX_HEADER_BYTES}")
    if not cfg.allowed_types.strip():
        problems.append("allowedTypes must name at least one type")
    if cfg.quarantine and not cfg.tag_objects:
        problems.append("quarantine needs tagObjects: untagged objects would never be readable")
    if not 0 <= cfg.max_retry_attempts <= MAX_RETRY_ATTEMPTS:
        problems.append(f"maxRetryAttempts must be between 0 and {MAX_RETRY_ATTEMPTS}")
    if not MIN_EVENT_AGE_SECONDS <= cfg.max_event_age_seconds <= MAX_EVENT_AGE_SECONDS:
        problems.append("maxEventAgeSeconds must be between 60 and 21600")
    for name, days in (
        ("noncurrentVersionDays", cfg.noncurrent_version_days),
        ("rejectedRetentionDays", cfg.rejected_retention_days),
        ("abortMultipartDays", cfg.abort_multipart_days),
    ):
        if days < 1:
            problems.append(f"{name} must be at least 1 day")
    if cfg.alarm_email and "@" not in cfg.alarm_email:
        problems.append("alarmEmail must be an email address")
    elif cfg.alarm_email and _undeliverable(cfg.alarm_email):
        problems.append(
            f"alarmEmail {cfg.alarm_email!r} is at a reserved domain that receives no mail, so "
            "the subscription could never be confirmed; set a monitored address or leave it empty"
        )
    if not 1 <= cfg.rejection_rate_threshold_percent <= 100:
        problems.append("rejectionRateThresholdPercent must be between 1 and 100")
    if not 1 <= cfg.status_index_shards <= schema.MAX_STATUS_INDEX_SHARDS:
        problems.append(f"statusIndexShards must be between 1 and {schema.MAX_STATUS_INDEX_SHARDS}")
    problems.extend(_notification_problems(cfg))
    problems.extend(_malware_problems(cfg))
    if problems:
        raise ConfigError("; ".join(problems))


def _notification_problems(cfg: PipelineConfig) -> list[str]:
    problems: list[str] = []
    if not cfg.notifications and (cfg.notification_email or cfg.notification_queues):
        problems.append("notificationEmail and notificationQueues need notifications: true")
    if cfg.notification_email and (
        "@" not in cfg.notification_email or _undeliverable(cfg.notification_email)
    ):
        problems.append(
            f"notificationEmail {cfg.notification_email!r} is not an address that can confirm "
            "a subscription"
        )
    for queue in cfg.notification_queues:
        if not _SQS_ARN.match(queue.arn):
            problems.append(f"notificationQueues: {queue.arn!r} is not an SQS queue ARN")
        unknown = sorted(set(queue.outcomes) - set(schema.ANNOUNCED_EVENT_TYPES))
        if unknown:
            problems.append(
                f"notificationQueues: outcomes {unknown} are not among "
                f"{list(schema.ANNOUNCED_EVENT_TYPES)}"
            )
    if not 0 <= cfg.notifier_max_retries <= MAX_STREAM_RETRY_ATTEMPTS:
        problems.append(f"notifierMaxRetries must be between 0 and {MAX_STREAM_RETRY_ATTEMPTS}")
    if cfg.iterator_age_alarm_seconds < 1:
        problems.append("iteratorAgeAlarmSeconds must be at least 1")
    return problems


def _malware_problems(cfg: PipelineConfig) -> list[str]:
    problems: list[str] = []
    if cfg.malware_scan not in schema.MALWARE_SCAN_MODES:
        problems.append(
            f"malwareScan must be one of {', '.join(schema.MALWARE_SCAN_MODES)}, "
            f"got {cfg.malware_scan!r}"
        )
    elif cfg.malware_scan != schema.MALWARE_SCAN_NONE and not cfg.quarantine:
        # Without the quarantine nothing stops a read before the scan: scanning would only
        # record, after the fact, that malware was served.
        problems.append(f"malwareScan {cfg.malware_scan!r} needs quarantine: true")
    if not (
        MIN_PROCESSING_WAIT_ALARM_MINUTES
        <= cfg.processing_wait_alarm_minutes
        <= MAX_PROCESSING_WAIT_ALARM_MINUTES
    ):
        problems.append(
            f"processingWaitAlarmMinutes must be between {MIN_PROCESSING_WAIT_ALARM_MINUTES} "
            f"and {MAX_PROCESSING_WAIT_ALARM_MINUTES}"
        )
    return problems


def parse_queue_subscriptions(value: str) -> tuple[QueueSubscription, ...]:
    """`notificationQueues`: whitespace-separated `ARN` or `ARN=OUTCOME,OUTCOME` entries."""
    queues = []
    for entry in value.split():
        arn, _, outcomes = entry.partition("=")
        wanted = tuple(o.strip().upper() for o in outcomes.split(",") if o.strip())
        queues.append(QueueSubscription(arn, wanted))
    return tuple(queues)


def _undeliverable(address: str) -> bool:
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return domain.rpartition(".")[2] in UNDELIVERABLE_MAIL_TLDS or any(
        domain == reserved or domain.endswith(f".{reserved}")
        for reserved in UNDELIVERABLE_MAIL_DOMAINS
    )


def _str(c: pulumi.Config, key: str, default: str) -> str:
    value = c.get(key)
    return default if value is None else value


def _int(c: pulumi.Config, key: str, default: int) -> int:
    value = c.get_int(key)
    return default if value is None else value


def _bool(c: pulumi.Config, key: str, default: bool) -> bool:
    value = c.get_bool(key)
    return default if value is None else value


def load_config(config: pulumi.Config | None = None) -> PipelineConfig:
    """Read the stack's settings (project namespace) once."""
    c = config if config is not None else pulumi.Config()
    d = PipelineConfig()
    reserved = _int(c, "reservedConcurrency", -1)
    return PipelineConfig(
        architecture=cast(Architecture, _str(c, "architecture", d.architecture)),
        memory_size_mb=_int(c, "memorySize", d.memory_size_mb),
        timeout_seconds=_int(c, "timeoutSeconds", d.timeout_seconds),
        log_retention_days=_int(c, "logRetentionDays", d.log_retention_days),
        log_level=_str(c, "logLevel", d.log_level),
        reserved_concurrency=None if reserved == -1 else reserved,
        max_file_bytes=_int(c, "maxFileBytes", d.max_file_bytes),
        allowed_types=_str(c, "allowedTypes", d.allowed_types),
        header_bytes=_int(c, "headerBytes", d.header_bytes),
        tag_objects=_bool(c, "tagObjects", d.tag_objects),
        quarantine=_bool(c, "quarantine", d.quarantine),
        max_retry_attempts=_int(c, "maxRetryAttempts", d.max_retry_attempts),
        max_event_age_seconds=_int(c, "maxEventAgeSeconds", d.max_event_age_seconds),
        notification_prefix=_str(c, "notificationPrefix", d.notification_prefix),
        notification_suffix=_str(c, "notificationSuffix", d.notification_suffix),
        noncurrent_version_days=_int(c, "noncurrentVersionDays", d.noncurrent_version_days),
        rejected_retention_days=_int(c, "rejectedRetentionDays", d.rejected_retention_days),
        abort_multipart_days=_int(c, "abortMultipartDays", d.abort_multipart_days),
        deletion_protection=_bool(c, "deletionProtection", d.deletion_protection),
        force_destroy=_bool(c, "forceDestroy", d.force_destroy),
        alarm_email=_str(c, "alarmEmail", d.alarm_email),
        rejection_rate_threshold_percent=_int(
            c, "rejectionRateThresholdPercent", d.rejection_rate_threshold_percent
        ),
        status_index_shards=_int(c, "statusIndexShards", d.status_index_shards),
        notifications=_bool(c, "notifications", d.notifications),
        notification_email=_str(c, "notificationEmail", d.notification_email),
        notification_queues=parse_queue_subscriptions(_str(c, "notificationQueues", "")),
        notifier_max_retries=_int(c, "notifierMaxRetries", d.notifier_max_retries),
        iterator_age_alarm_seconds=_int(c, "iteratorAgeAlarmSeconds", d.iterator_age_alarm_seconds),
        malware_scan=_str(c, "malwareScan", d.malware_scan),
        processing_wait_alarm_minutes=_int(
            c, "processingWaitAlarmMinutes", d.processing_wait_alarm_minutes
        ),
    )
