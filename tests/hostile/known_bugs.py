"""Inputs that trigger bugs already pinned by strict-xfail tests (test_regressions.py).

The property tests skip them so they keep guarding everything else; delete an entry
when its bug is fixed (the xfail test then fails loudly as XPASS, which is the reminder).
"""

from __future__ import annotations

import re
from typing import Any

# botocore's own check on a bucket name before any request (handlers.py validate_bucket_name).
_BOTOCORE_BUCKET = re.compile(r"^[a-zA-Z0-9.\-_]{1,255}$")


def known_bug(record: Any) -> bool:
    """Bug 1: a bucket name S3 could never send is recorded before the request fails."""
    try:
        name = record["s3"]["bucket"]["name"]
    except (KeyError, TypeError):
        return False
    return isinstance(name, str) and bool(name) and not _BOTOCORE_BUCKET.match(name)
