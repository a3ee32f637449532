"""Handler settings, read from the environment once per container and validated."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from handlers import schema
from handlers.errors import ConfigurationError

_MIME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR"})


@dataclass(frozen=True)
class Settings:
    table_name: str
    max_file_bytes: int = schema.DEFAULT_MAX_FILE_BYTES
    allowed_types: tuple[str, ...] = tuple(schema.DEFAULT_ALLOWED_TYPES.split(","))
    header_bytes: int = schema.DEFAULT_HEADER_BYTES
    tag_objects: bool = True
    dlq_url: str | None = None
    log_level: str = "INFO"
    status_index_shards: int = schema.DEFAULT_STATUS_INDEX_SHARDS
    malware_scan: str = schema.MALWARE_SCAN_NONE

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Every problem at once, in one clear `ConfigurationError`."""
        problems: list[str] = []
        table = environ.get(schema.ENV_TABLE_NAME, "").strip()
        if not table:
            problems.append(f"{schema.ENV_TABLE_NAME} is required (the audit table's name)")
        max_bytes = _int(
            environ, schema.ENV_MAX_FILE_BYTES, schema.DEFAULT_MAX_FILE_BYTES, 1, problems
        )
        header = _int(environ, schema.ENV_HEADER_BYTES, schema.DEFAULT_HEADER_BYTES, 512, problems)
        if header > schema.MAX_HEADER_BYTES:
            problems.append(f"{schema.ENV_HEADER_BYTES} must be at most {schema.MAX_HEADER_BYTES}")
        allowed = tuple(
            p.strip().lower()
            for p in environ.get(schema.ENV_ALLOWED_TYPES, schema.DEFAULT_ALLOWED_TYPES).split(",")
            if p.strip()
        )
        bad = [p for p in allowed if not _MIME_PATTERN.match(p)]
        if not allowed:
            problems.append(f"{schema.ENV_ALLOWED_TYPES} lists no types")
        if bad:
            problems.append(f"{schema.ENV_ALLOWED_TYPES} has malformed entries: {', '.join(bad)}")
        tag_raw = environ.get(schema.ENV_TAG_OBJECTS, "true").strip().lower()
        if tag_raw not in _TRUE | _FALSE:
            problems.append(f"{schema.ENV_TAG_OBJECTS} must be true or false, not {tag_raw!r}")
        shards = _int(
            environ,
            schema.ENV_STATUS_INDEX_SHARDS,
            schema.DEFAULT_STATUS_INDEX_SHARDS,
            1,
            problems,
        )
        if shards > schema.MAX_STATUS_INDEX_SHARDS:
            problems.append(
                f"{schema.ENV_STATUS_INDEX_SHARDS} must be at most {schema.MAX_STATUS_INDEX_SHARDS}"
            )
        scan = environ.get(schema.ENV_MALWARE_SCAN, schema.MALWARE_SCAN_NONE).strip().lower()
        if scan not in schema.MALWARE_SCAN_MODES:
            problems.append(
                f"{schema.ENV_MALWARE_SCAN} must be one of {', '.join(schema.MALWARE_SCAN_MODES)},"
                f" not {scan!r}"
            )
        level = environ.get(schema.ENV_LOG_LEVEL, "INFO").strip().upper()
        if level not in _LEVELS:
            problems.append(f"{schema.ENV_LOG_LEVEL} must be one of {', '.join(sorted(_LEVELS))}")
        if problems:
            raise ConfigurationError("invalid filetrail settings: " + "; ".join(problems))
        return cls(
            table_name=table,
            max_file_bytes=max_bytes,
            allowed_types=allowed,
            header_bytes=header,
            tag_objects=tag_raw in _TRUE,
            dlq_url=environ.get(schema.ENV_DLQ_URL, "").strip() or None,
            log_level=level,
            status_index_shards=shards,
            malware_scan=scan,
        )


def _int(
    environ: Mapping[str, str], name: str, default: int, minimum: int, problems: list[str]
) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name} must be an integer, not {raw!r}")
        return default
    if value < minimum:
        problems.append(f"{name} must be at least {minimum}, not {value}")
    return value
