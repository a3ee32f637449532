"""Cold-start import cost, each sample in a fresh interpreter."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PROBE = "import time\nt = time.perf_counter()\nimport {module}\nprint(time.perf_counter() - t)\n"


def import_seconds(module: str, repetitions: int) -> list[float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA")}
    env["PYTHONPATH"] = str(ROOT)
    samples = []
    for _ in range(repetitions):
        out = subprocess.run(  # noqa: S603 - our own interpreter, fixed probe
            [sys.executable, "-c", _PROBE.format(module=module)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        ).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return samples


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def _warm() -> None:
    """One throwaway run so the first sample does not pay for a cold page cache."""
    import_seconds("handlers.app", 1)
    import_seconds("boto3", 1)


def measure(repetitions: int) -> dict[str, float | int]:
    _warm()
    handler = import_seconds("handlers.app", repetitions)
    boto3_only = import_seconds("boto3", repetitions)
    return {
        "repetitions": repetitions,
        "handlerImportMs": median_ms(handler),
        "boto3ImportMs": median_ms(boto3_only),
    }
