"""moto's SQS at a cost per message that does not grow with the queue's backlog.

Uploads arrive faster than the dispatcher works them off, so the notification queue holds
a backlog, and moto's SQS is quadratic in it: each received message re-reads every queue
attribute to check its retention period, each attribute read counts the queue's messages
one by one (three times over), and each of those visibility tests builds datetimes to read
the clock. With 1,000 messages queued one SendMessage took about 70 ms and one
ReceiveMessage about 250 ms of the emulator's only core. The retention check here reads
the queue's own setting, and the clock is `time.time()`: the same values, at a constant
cost per message.
"""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

from moto.core.utils import unix_time as moto_unix_time
from moto.sqs import models as sqs_models
from moto.sqs.models import Message, SQSBackend

_installed = False
_install_lock = threading.Lock()


def unix_time(dt: datetime.datetime | None = None) -> float:
    """moto's `unix_time`, without building two datetimes to read the clock."""
    return time.time() if dt is None else moto_unix_time(dt)


def unix_time_millis(dt: datetime.datetime | None = None) -> float:
    return unix_time(dt) * 1000.0


def is_message_valid_based_on_retention_period(
    self: SQSBackend, queue_name: str, message: Message
) -> bool:
    """moto's check, reading the retention period without recounting the queue."""
    queue: Any = self.get_queue(queue_name)  # its attributes are set by name, untyped
    retention_period = int(queue.message_retention_period)
    sent_at: Any = message.sent_timestamp
    return bool(retention_period + sent_at / 1000 > time.time())


def install() -> None:
    """Patch moto (process-wide, once)."""
    global _installed  # noqa: PLW0603 - moto's backends are process-wide too
    with _install_lock:
        if _installed:
            return
        sqs_models.unix_time = unix_time  # type: ignore[attr-defined]
        sqs_models.unix_time_millis = unix_time_millis  # type: ignore[attr-defined]
        SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
            is_message_valid_based_on_retention_period
        )
        _installed = True
