from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra.config import PipelineConfig
from infra.packaging import BuiltArchive
from tests.infra.harness import (
    PROJECT,
    STACK,
    Deployment,
    RecordingMocks,
    RecordingMonitor,
    code_only_archive,
    deploy,
)


@pytest.fixture
def mocks() -> Iterator[tuple[RecordingMocks, RecordingMonitor]]:
    """Fresh event loop and mock monitor per test: Pulumi's runtime state is global."""
    loop = asyncio.new_event_loop()
    executor = ThreadPoolExecutor(max_workers=_WORKERS)
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    recording = RecordingMocks()
    monitor = RecordingMonitor(recording)
    pulumi.runtime.set_mocks(
        recording, project=PROJECT, stack=STACK, preview=False, monitor=monitor
    )
    yield recording, monitor
    pulumi.runtime.set_all_config({})
    _close_worker_loops(executor)
    asyncio.set_event_loop(None)
    loop.close()


_WORKERS = 4


def _close_worker_loops(executor: ThreadPoolExecutor) -> None:
    """Close the event loops Pulumi's mock monitor opens on executor threads.

    One task per worker, held at a barrier, so every worker thread runs exactly one.
    """
    barrier = threading.Barrier(_WORKERS)

    def close_own_loop() -> None:
        barrier.wait(timeout=10)
        policy = asyncio.get_event_loop_policy()
        try:
            loop = policy.get_event_loop()
        except RuntimeError:
            return
        loop.close()
        policy.set_event_loop(None)

    for future in [executor.submit(close_own_loop) for _ in range(_WORKERS)]:
        future.result()
    executor.shutdown(wait=True)


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> BuiltArchive:
    return code_only_archive(tmp_path_factory.mktemp("build"))


@pytest.fixture
def deploy_with(
    mocks: tuple[RecordingMocks, RecordingMonitor], archive: BuiltArchive
) -> Callable[..., Deployment]:
    def run(**settings: Any) -> Deployment:
        # The notifications stage (a second function, role, topic) is checked on its own in
        # test_notifications.py; elsewhere one function, one role, one topic is the program.
        settings.setdefault("notifications", False)
        return deploy(*mocks, PipelineConfig(**settings), archive)

    return run


@pytest.fixture
def stack(deploy_with: Callable[..., Deployment]) -> Deployment:
    """The program with every setting at its default but the notifications stage."""
    return deploy_with()


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
