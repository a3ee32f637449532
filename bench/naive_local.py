"""`filetrail local` on moto as shipped: the naive baseline of bench/local.py.

moto's own TransactWriteItems (a deep copy of the table per item) and SQS (every message
received recounts the queue), as local mode ran before issue 9. Only the S3 notification
fix stays, so both runs process the same events.
"""

from __future__ import annotations

import sys

from filetrail.cli import main
from filetrail.local import emulator, notifications


def _moto_as_shipped() -> None:
    notifications.install()


if __name__ == "__main__":
    emulator.patch_moto = _moto_as_shipped
    sys.exit(main(["local", *sys.argv[1:]]))
