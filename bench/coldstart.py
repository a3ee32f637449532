"""Cold start as Lambda runs it: the handler imported from the unpacked deployment archive.

Lambda unpacks the archive into a read-only task root (`LAMBDA_TASK_ROOT`), puts its own
copy of boto3 and its dependencies on the path, sets its environment variables and
imports the handler module in a fresh interpreter. Each sample here does the same: the
archive built by infra/packaging.py unpacked into a temporary task root, the runtime's
SDK installed beside it, Lambda's variables set (so the handler builds its clients at
import, as it does there), `PYTHONDONTWRITEBYTECODE` standing in for the read-only task
root, and the import timed inside a new process.

Variants, interleaved so that a busy machine slows them alike:

- the archive as sources only (what shipped before it carried compiled files), and the
  archive with compiled files;
- the compiled archive plus the X-Ray SDK configured and patching botocore as the handler
  once did, inside Lambda (`LAMBDA_TASK_ROOT` set) and outside it (unset: the path the old
  bench measured, which Lambda never takes);
- `import boto3` alone, the floor any Python function on this runtime pays.

The interpreter is one of the Lambda runtime's Python version where this machine has one
(infra.packaging.find_compiler), else the running one, and the output says which. The
runtime's SDK and the X-Ray SDK are installed with pip (once, cached in .pulumi-build/) at
the versions this environment has, and compiled, as the runtime's own copy is taken to be.
"""

from __future__ import annotations

import importlib.metadata
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.config import Architecture
from infra.packaging import (
    LAMBDA_PYTHON_VERSION,
    PACKAGE_DIR,
    REQUIREMENTS_FILE,
    RUNTIME_PROVIDED,
    Compiler,
    PackagingError,
    archive_entries,
    cached_dependencies,
    compile_tree,
    compiled_entries,
    find_compiler,
    write_zip,
)

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".pulumi-build"
ARCHITECTURE: Architecture = "arm64"  # infra/config.py's default
XRAY_SDK = ("aws-xray-sdk", "2.15.0")  # the last version the handler used
_SDK_SETUP = (
    "from aws_xray_sdk.core import patch, xray_recorder\n"
    "xray_recorder.configure(context_missing='IGNORE_ERROR', service='filetrail')\n"
    "patch(('botocore',))\n"
)
_PROBE = (
    "import json, time\n"
    "wall, cpu = time.perf_counter(), time.process_time()\n"
    "{setup}"
    "import {module}\n"
    "print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))\n"
)
# What Lambda sets for a function with active tracing (the values are stand-ins).
_LAMBDA_ENVIRONMENT = {
    "AWS_LAMBDA_FUNCTION_NAME": "filetrail-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "TABLE_NAME": "filetrail-bench-audit",
    "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/filetrail-bench-dlq",
    "PYTHONDONTWRITEBYTECODE": "1",
}


@dataclass(frozen=True)
class Variant:
    name: str
    title: str
    task_root: Path
    path: tuple[Path, ...]
    module: str = "handlers.app"
    setup: str = ""
    in_lambda: bool = True


@dataclass
class Interpreter:
    executable: str
    version: str
    notes: list[str] = field(default_factory=list)


def interpreter() -> Interpreter:
    compiler = find_compiler()
    if compiler is not None:
        return Interpreter(compiler.executable, compiler.version)
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Interpreter(
        sys.executable,
        running,
        [
            f"No Python {LAMBDA_PYTHON_VERSION} (the Lambda runtime's) on this machine: "
            f"measured with Python {running}, its archive compiled for {running}."
        ],
    )


def _pinned(distributions: Iterable[str]) -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in sorted(distributions)]


def _installed(requirements: list[str], python: Interpreter, label: str) -> Path:
    """pip-installed for `python`'s version and compiled by it, cached across runs."""
    requirements_file = CACHE / "bench" / f"{label}-{python.version}.txt"
    requirements_file.parent.mkdir(parents=True, exist_ok=True)
    # The version line keys the cache by interpreter too.
    requirements_file.write_text(f"# python {python.version}\n" + "\n".join(requirements) + "\n")

    def install(listed: Path, architecture: Architecture, target: Path) -> None:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--no-deps",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            python.version,
            "--target",
            str(target),
            "--requirement",
            str(listed),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise PackagingError(result.stderr.strip())
        compile_tree(Compiler(python.executable, python.version), target)

    return cached_dependencies(requirements_file, ARCHITECTURE, CACHE / "bench", install)


def _unpacked(entries: list[tuple[str, Path]], destination: Path) -> int:
    archive = write_zip(entries, destination.with_suffix(".zip"))
    with zipfile.ZipFile(archive.path) as z:
        z.extractall(destination)
    return archive.path.stat().st_size


def _sample(python: Interpreter, variant: Variant) -> tuple[float, float]:
    """(wall, CPU) seconds of one cold import."""
    env = dict(_LAMBDA_ENVIRONMENT)
    env["PYTHONPATH"] = ":".join(str(p) for p in (variant.task_root, *variant.path))
    if variant.in_lambda:
        env["LAMBDA_TASK_ROOT"] = str(variant.task_root)
        env["LAMBDA_RUNTIME_DIR"] = str(variant.path[-1])
    probe = _PROBE.format(setup=variant.setup, module=variant.module)
    out = subprocess.run(  # noqa: S603 - our own interpreter, fixed probe
        [python.executable, "-s", "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=variant.task_root,
    ).stdout
    wall, cpu = json.loads(out.strip().splitlines()[-1])
    return float(wall), float(cpu)


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def measure(repetitions: int) -> dict[str, Any]:
    python = interpreter()
    compiler = Compiler(python.executable, python.version)
    dependencies = cached_dependencies(ROOT / PACKAGE_DIR / REQUIREMENTS_FILE, ARCHITECTURE, CACHE)
    runtime = _installed(_pinned(RUNTIME_PROVIDED), python, "runtime")
    try:
        sdk: Path | None = _installed(
            ["==".join(XRAY_SDK), *_pinned(["wrapt"])], python, "xray-sdk"
        )
    except (PackagingError, importlib.metadata.PackageNotFoundError) as error:
        sdk = None
        python.notes.append(f"X-Ray SDK comparison skipped: it could not be installed ({error}).")
    entries = archive_entries(ROOT / PACKAGE_DIR, dependencies)
    with tempfile.TemporaryDirectory(prefix="filetrail-coldstart-") as work:
        base = Path(work)
        sizes = {
            "sources": _unpacked(entries, base / "sources"),
            "compiled": _unpacked(
                compiled_entries(entries, compiler, base / "pyc-staging"), base / "compiled"
            ),
        }
        variants = [
            Variant("sources", "archive as sources only (before)", base / "sources", (runtime,)),
            Variant("compiled", "archive with compiled files (now)", base / "compiled", (runtime,)),
        ]
        if sdk is not None:
            variants += [
                Variant(
                    "xraySdkInLambda",
                    "compiled archive + X-Ray SDK, LAMBDA_TASK_ROOT set (as in Lambda)",
                    base / "compiled",
                    (sdk, runtime),
                    setup=_SDK_SETUP,
                ),
                Variant(
                    "xraySdkOutsideLambda",
                    "compiled archive + X-Ray SDK, LAMBDA_TASK_ROOT unset (the old bench)",
                    base / "compiled",
                    (sdk, runtime),
                    setup=_SDK_SETUP,
                    in_lambda=False,
                ),
            ]
        variants.append(
            Variant("boto3", "`import boto3` alone", base / "compiled", (runtime,), module="boto3")
        )
        samples: dict[str, list[tuple[float, float]]] = {v.name: [] for v in variants}
        for round_ in range(repetitions + 1):
            for variant in variants:
                sample = _sample(python, variant)
                if round_ > 0:  # the first round warms the page cache
                    samples[variant.name].append(sample)
    return {
        "repetitions": repetitions,
        "python": python.version,
        "lambdaPython": LAMBDA_PYTHON_VERSION,
        "interpreter": Path(python.executable).name,
        "notes": python.notes,
        "archiveBytes": sizes,
        "variants": {
            v.name: {
                "title": v.title,
                "cpuMedianMs": median_ms([cpu for _, cpu in samples[v.name]]),
                "wallMedianMs": median_ms([wall for wall, _ in samples[v.name]]),
            }
            for v in variants
        },
        "samplesMs": {
            name: {
                "cpu": [round(cpu * 1000, 1) for _, cpu in values],
                "wall": [round(wall * 1000, 1) for wall, _ in values],
            }
            for name, values in samples.items()
        },
    }


def main() -> int:
    """`python -m bench.coldstart [repetitions]`: the cold-start figures alone, as JSON."""
    repetitions = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    print(json.dumps(measure(repetitions), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
