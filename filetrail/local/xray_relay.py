"""Plays the X-Ray daemon: receives segment documents over UDP and forwards them to the
emulator's X-Ray API, so `filetrail trace` reads local traces the way it reads AWS's.

Like the daemon, it uploads in batches: the tracer sends each subsegment as its own
document, a dozen per file, and one request per document was half of local mode's
requests under load."""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

MAX_DATAGRAM = 65_535
POLL_SECONDS = 0.2
BATCH_DOCUMENTS = 50  # the X-Ray daemon's batch size
BATCH_SECONDS = 0.2  # how long a document may wait for others to share its request
_HEADER = {"format": "json", "version": 1}

logger = logging.getLogger(__name__)


class XRayRelay:
    def __init__(self, xray_client: Any, host: str = "127.0.0.1") -> None:
        self._xray = xray_client
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((host, 0))
        self._socket.settimeout(POLL_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="filetrail-xray-relay", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                datagram = self._socket.recv(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError:
                return
            self._forward([datagram, *self._waiting(BATCH_SECONDS)])
        # Segments that arrived just before shutdown still reach the emulator.
        while waiting := self._waiting():
            self._forward(waiting)

    def _waiting(self, seconds: float = 0.0) -> list[bytes]:
        """The datagrams that arrive within `seconds`, up to a batch."""
        datagrams: list[bytes] = []
        deadline = time.monotonic() + seconds
        while len(datagrams) < BATCH_DOCUMENTS - 1:
            try:
                wait = max(0.0, deadline - time.monotonic())
                readable, _, _ = select.select([self._socket], [], [], wait)
                if not readable:
                    break
                datagrams.append(self._socket.recv(MAX_DATAGRAM))
            except (OSError, ValueError):
                break
        return datagrams

    def _forward(self, datagrams: list[bytes]) -> None:
        documents = []
        for datagram in datagrams:
            header, _, document = datagram.partition(b"\n")
            try:
                valid = bool(document) and json.loads(header) == _HEADER
            except ValueError:
                valid = False
            if valid:
                documents.append(document.decode())
            else:
                logger.warning("dropped a datagram that is not an X-Ray segment document")
        if not documents:
            return
        try:
            self._xray.put_trace_segments(TraceSegmentDocuments=documents)
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not forward %d segment(s) to X-Ray: %s", len(documents), error)
