"""`filetrail list --follow` in its own process, like a person's terminal: it prints each
outcome as it happens, each once, until interrupted."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 30.0


class Follow:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)

    def wait_for(self, wanted: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                assert self.process.poll() is None, self.process.stderr.read()  # type: ignore[union-attr]
                continue
            self.lines.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"no such line within {DEADLINE_SECONDS}s; saw {self.lines}")

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=DEADLINE_SECONDS)


@pytest.fixture
def follow(stack) -> Iterator[Callable[..., Follow]]:
    started: list[Follow] = []

    def start(*argv: str) -> Follow:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "filetrail", "list", "--follow", *argv],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(Follow(process))
        return started[-1]

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
        running.process.wait()
        running.reader.join()
        for pipe in (running.process.stdout, running.process.stderr):
            assert pipe is not None
            pipe.close()


def _key(line: str) -> str:
    return str(json.loads(line)["key"])


def test_follow_prints_each_new_outcome_once(stack, follow):
    stack.upload("before.txt", b"hello")
    running = follow("--json")
    running.wait_for(lambda line: _key(line) == "before.txt")

    stack.upload("after.txt", b"")
    line = running.wait_for(lambda line: _key(line) == "after.txt")

    assert json.loads(line)["status"] == "FAILED"
    assert [_key(seen) for seen in running.lines].count("before.txt") == 1
    assert running.interrupt() == 0


def test_follow_prints_a_file_again_when_it_has_a_new_outcome(stack, follow):
    stack.upload("a.txt", b"hello")
    running = follow("--json")
    running.wait_for(lambda line: _key(line) == "a.txt")

    stack.upload("a.txt", b"")  # a new upload of the same key, now rejected

    line = running.wait_for(lambda line: json.loads(line)["status"] == "FAILED")
    assert _key(line) == "a.txt"
    assert running.interrupt() == 0


def test_follow_prints_one_readable_line_per_outcome(stack, follow):
    stack.upload("empty.txt", b"")
    running = follow()

    line = running.wait_for(lambda line: "empty.txt" in line)

    assert "FAILED" in line
    assert "EMPTY_FILE" in line
    assert running.interrupt() == 0
