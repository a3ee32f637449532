"""The stress scenarios' emulator: local mode's own (filetrail/local/emulator.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from filetrail.local.emulator import AtomicMotoServer

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Server:
    endpoint_url: str


@contextmanager
def locked_moto_server() -> Iterator[Server]:
    """Local mode's own emulator (atomic requests, its transactions), on a free port."""
    server = AtomicMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        yield Server(f"http://{HOST}:{server.get_host_and_port()[1]}")
    finally:
        server.stop()
