"""Plays the X-Ray daemon: receives segment documents over UDP and forwards them to the
emulator's X-Ray API, so `filetrail trace` reads local traces the way it reads AWS's."""

from __future__ import annotations

import json
import logging
import socket
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

MAX_DATAGRAM = 65_535
POLL_SECONDS = 0.2
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
            self._forward(datagram)
        # Segments that arrived just before shutdown still reach the emulator.
        self._socket.setblocking(False)
        while True:
            try:
                self._forward(self._socket.recv(MAX_DATAGRAM))
            except OSError:
                return

    def _forward(self, datagram: bytes) -> None:
        header, _, document = datagram.partition(b"\n")
        try:
            valid = bool(document) and json.loads(header) == _HEADER
        except ValueError:
            valid = False
        if not valid:
            logger.warning("dropped a datagram that is not an X-Ray segment document")
            return
        try:
            self._xray.put_trace_segments(TraceSegmentDocuments=[document.decode()])
        except (ClientError, BotoCoreError) as error:
            logger.warning("could not forward a segment to X-Ray: %s", error)
