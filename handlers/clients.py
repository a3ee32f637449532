"""How every function's AWS clients are configured (one place for all entry modules)."""

from __future__ import annotations

from botocore.config import Config

# Standard mode retries throttling and 5xx with capped exponential backoff.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=3,
    read_timeout=10,
)
