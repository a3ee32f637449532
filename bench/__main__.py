"""`python -m bench`: filetrail against the naive baseline, Markdown on stdout, JSON on disk."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import coldstart
from bench.measure import KIB, MIB, measure_size
from bench.prices import Prices, cost_per_million
from bench.report import markdown

LAMBDA_MEMORY_MB = 512  # infra/config.py's default memorySize
SIZES = {"1 KiB": KIB, "1 MiB": MIB, "100 MiB": 100 * MIB}
FILES = {"1 KiB": 300, "1 MiB": 100, "100 MiB": 5}
QUICK_FILES = {"1 KiB": 20, "1 MiB": 5, "100 MiB": 1}
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few files per size (smoke run)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    parser.add_argument("--cold-start-repetitions", type=int, default=15)
    parser.add_argument("--render", type=Path, help="print the Markdown of a saved JSON result")
    args = parser.parse_args(argv)
    if args.render:
        print(markdown(json.loads(args.render.read_text())))
        return 0
    files = QUICK_FILES if args.quick else FILES
    prices = Prices()
    results: dict[str, Any] = {
        "command": "python -m bench" + (" --quick" if args.quick else ""),
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadAverageAtStart": round(os.getloadavg()[0], 1),
        "emulator": "moto mock_aws, in-process",
        "lambdaMemoryMb": LAMBDA_MEMORY_MB,
        "prices": prices.to_json(),
        "sizes": {},
    }
    for label, size in SIZES.items():
        print(f"measuring {label} x {files[label]}", file=sys.stderr)
        per_path = measure_size(size, files[label])
        for per_design in per_path.values():
            for figures in per_design.values():
                figures["cost"] = cost_per_million(
                    prices,
                    s3_operations=figures["s3Operations"],
                    write_units=figures["writeUnits"],
                    read_units=figures["readUnits"],
                    seconds=figures["medianMs"] / 1000,
                    memory_mb=LAMBDA_MEMORY_MB,
                )
                figures["costTotal"] = figures["cost"]["total"]
        results["sizes"][label] = per_path
    print("measuring cold start", file=sys.stderr)
    results["coldStart"] = coldstart.measure(2 if args.quick else args.cold_start_repetitions)
    results["loadAverageAtEnd"] = round(os.getloadavg()[0], 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"JSON written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
