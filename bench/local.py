"""`python -m bench.local`: local mode's throughput and memory, as a user runs it.

Starts `filetrail local --json` as a process, uploads files over HTTP with 8 threads, polls
the status items (consistent BatchGetItem, never a Scan) until every file has its outcome,
and reports files per second per quarter and the server's resident memory at each quarter
mark. The same run against local mode on moto's own transactions (bench/naive_local.py)
is the naive baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config

from filetrail.local.stack import CREDENTIALS
from handlers import schema
from tests.support.samples import PNG

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "local.json"
FILES = 1000
BASELINE_FILES = 250  # moto as shipped needs minutes and gigabytes for these already
GOAL_FILES_PER_SECOND = 20.0
GOAL_SLOWDOWN = 1.3  # the last quarter's time over the first's
GOAL_RSS_MIB = 700
THREADS = 8
QUARTERS = 4
POLL_SECONDS = 0.25
READY_SECONDS = 60
STOP_SECONDS = 30
BATCH_KEYS = 100  # BatchGetItem's limit
MIB = 1024 * 1024
FINAL = frozenset(s.value for s in schema.Status if s is not schema.Status.PROCESSING)


def filetrail_command() -> list[str]:
    """The console script a user runs, or the module when it is not installed."""
    script = Path(sys.executable).with_name("filetrail")
    if script.exists():
        return [str(script), "local", "--json"]
    return [sys.executable, "-m", "filetrail", "local", "--json"]


def naive_command() -> list[str]:
    return [sys.executable, "-m", "bench.naive_local", "--json"]


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants, from /proc."""
    found: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found


def tree_usage(pid: int) -> tuple[int, float]:
    """(VmRSS bytes, CPU seconds) of a process and its descendants."""
    rss, cpu = 0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for current in process_tree(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
            stat = Path(f"/proc/{current}/stat").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) * 1024
        fields = stat.rsplit(")", 1)[1].split()
        cpu += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return rss, cpu


@dataclass
class Run:
    """One local-mode process under load."""

    label: str
    command: list[str]
    files: int
    deadline_seconds: float
    done_at: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    rss_at: dict[int, int] = field(default_factory=dict)
    cpu_at: dict[int, float] = field(default_factory=dict)
    peak_rss: int = 0
    upload_seconds: float = 0.0
    stop_seconds: float = 0.0
    exit_code: int | None = None
    tracebacks: int = 0
    timed_out: bool = False

    def measure(self) -> dict[str, Any]:
        with tempfile.TemporaryFile("w+") as stderr:
            process = subprocess.Popen(  # noqa: S603 - our own command
                self.command,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                cwd=ROOT,
                env=_child_environment(),
            )
            try:
                ready = _ready_line(process)
                self._load(process.pid, ready)
            finally:
                self._stop(process)
            stderr.seek(0)
            self.tracebacks = sum(1 for line in stderr if line.startswith("Traceback"))
        return self.figures()

    def _load(self, pid: int, ready: dict[str, str]) -> None:
        config = Config(max_pool_connections=THREADS * 2, retries={"mode": "standard"})
        session = boto3.session.Session(
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
            region_name=ready["region"],
        )
        s3 = session.client("s3", endpoint_url=ready["endpoint_url"], config=config)
        dynamodb = session.client("dynamodb", endpoint_url=ready["endpoint_url"], config=config)
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        keys = [f"bench/{run_id}/{n:05d}.png" for n in range(self.files)]
        pending = {schema.document_id(ready["bucket"], key): key for key in keys}
        started = time.monotonic()
        _, cpu_before = tree_usage(pid)

        def upload(n: int) -> None:
            body = PNG + n.to_bytes(4, "big")
            s3.put_object(Bucket=ready["bucket"], Key=keys[n], Body=body, ContentType="image/png")

        def upload_all() -> None:
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(upload, range(self.files)))
            self.upload_seconds = time.monotonic() - started

        uploader = threading.Thread(target=upload_all, name="bench-uploads")
        uploader.start()
        marks = sorted({self.files * n // QUARTERS for n in range(1, QUARTERS + 1)} - {0})
        deadline = started + self.deadline_seconds
        while pending:
            for document_id, status in _statuses(dynamodb, ready["table"], list(pending)):
                if status in FINAL:
                    self.done_at[document_id] = time.monotonic() - started
                    self.outcomes[status] = self.outcomes.get(status, 0) + 1
                    del pending[document_id]
            rss, cpu = tree_usage(pid)
            self.peak_rss = max(self.peak_rss, rss)
            for mark in marks:
                if len(self.done_at) >= mark and mark not in self.rss_at:
                    self.rss_at[mark] = rss
                    self.cpu_at[mark] = cpu - cpu_before
            if time.monotonic() > deadline:
                self.timed_out = True
                break
            time.sleep(POLL_SECONDS)  # polling interval of a deadline-bounded wait
        uploader.join()

    def _stop(self, process: subprocess.Popen[str]) -> None:
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            self.exit_code = process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            self.exit_code = process.wait()
        self.stop_seconds = time.monotonic() - stopping
        if process.stdout:
            process.stdout.close()

    def figures(self) -> dict[str, Any]:
        times = sorted(self.done_at.values())
        marks = sorted(self.rss_at)
        quarters = []
        previous_count, previous_time, previous_cpu = 0, 0.0, 0.0
        for mark in marks:
            if mark > len(times):
                break
            at, cpu = times[mark - 1], self.cpu_at[mark]
            quarters.append(
                {
                    "files": f"{previous_count + 1}-{mark}",
                    "seconds": round(at - previous_time, 2),
                    "filesPerSecond": round((mark - previous_count) / (at - previous_time), 2),
                    "cpuMsPerFile": round((cpu - previous_cpu) * 1000 / (mark - previous_count)),
                    "rssMiB": round(self.rss_at[mark] / MIB),
                }
            )
            previous_count, previous_time, previous_cpu = mark, at, cpu
        return {
            "label": self.label,
            "command": " ".join(Path(part).name if "/" in part else part for part in self.command),
            "files": self.files,
            "completed": len(times),
            "timedOut": self.timed_out,
            "seconds": round(times[-1], 2) if times else None,
            "filesPerSecond": round(len(times) / times[-1], 2) if times else None,
            "uploadSeconds": round(self.upload_seconds, 2),
            "quarters": quarters,
            "peakRssMiB": round(self.peak_rss / MIB),
            "outcomes": self.outcomes,
            "stopSeconds": round(self.stop_seconds, 2),
            "exitCode": self.exit_code,
            "tracebacks": self.tracebacks,
        }


def _child_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FILETRAIL_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


def _ready_line(process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None  # noqa: S101 - PIPE above
    stdout: IO[str] = process.stdout
    line = stdout.readline()
    if not line:
        raise SystemExit(f"local mode exited with {process.wait(READY_SECONDS)} before ready")
    ready: dict[str, str] = json.loads(line)
    return ready


def _statuses(dynamodb: Any, table: str, document_ids: list[str]) -> list[tuple[str, str]]:
    """(documentId, status) of each status item that exists, by consistent BatchGetItem."""
    found: list[tuple[str, str]] = []
    for first in range(0, len(document_ids), BATCH_KEYS):
        keys = [
            {
                schema.PARTITION_KEY: {"S": document_id},
                schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
            }
            for document_id in document_ids[first : first + BATCH_KEYS]
        ]
        request: dict[str, Any] = {
            table: {
                "Keys": keys,
                "ConsistentRead": True,
                "ProjectionExpression": "#pk, #status",
                "ExpressionAttributeNames": {"#pk": schema.PARTITION_KEY, "#status": "status"},
            }
        }
        while request:
            response = dynamodb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                found.append((item[schema.PARTITION_KEY]["S"], item["status"]["S"]))
            request = response.get("UnprocessedKeys") or {}
    return found


def markdown(results: dict[str, Any]) -> str:
    runs = results["runs"]
    lines = [
        "# Local mode under load",
        "",
        f"Command: `{results['command']}` — run {results['startedAt']}, "
        f"Python {results['python']}, {results['cpus']} CPUs, load average "
        f"{results['loadAverage']} at the start.",
        "",
        f"Each run starts local mode as a process, uploads PNG files over HTTP with "
        f"{THREADS} threads and polls the status items (consistent BatchGetItem) every "
        f"{POLL_SECONDS:g} s until each has its outcome. Files per second are per quarter of "
        "the run, by completion; CPU is the local-mode process's (user + system, all its "
        "threads) per file in that quarter, which other load on the machine inflates far "
        "less than wall time; memory is VmRSS of the local-mode process and its children when the "
        "quarter's last file completed.",
        "",
        "| run | files | quarter | seconds | files/s | CPU ms per file | RSS (MiB) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for run in runs:
        for quarter in run["quarters"]:
            lines.append(
                f"| {run['label']} | {run['files']} | {quarter['files']} | {quarter['seconds']} "
                f"| {quarter['filesPerSecond']} | {quarter['cpuMsPerFile']} "
                f"| {quarter['rssMiB']} |"
            )
    lines += [
        "",
        "| run | completed | overall files/s | last / first quarter time | peak RSS (MiB) "
        "| outcomes | SIGTERM to exit (s) | exit code | tracebacks |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for run in runs:
        quarters = run["quarters"]
        slowdown = (
            f"{quarters[-1]['seconds'] / quarters[0]['seconds']:.2f}" if len(quarters) > 1 else "-"
        )
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(run["outcomes"].items()))
        timed_out = " (timed out)" if run["timedOut"] else ""
        lines.append(
            f"| {run['label']} | {run['completed']}/{run['files']}{timed_out} "
            f"| {run['filesPerSecond']} | {slowdown} | {run['peakRssMiB']} | {outcomes} "
            f"| {run['stopSeconds']} | {run['exitCode']} | {run['tracebacks']} |"
        )
    lines += ["", *_goal(runs[0]), ""]
    return "\n".join(lines)


def _goal(run: dict[str, Any]) -> list[str]:
    """Issue 9's goal for the first (filetrail) run, met or not."""
    quarters = run["quarters"]
    if not quarters or run["completed"] < run["files"]:
        return [f"Goal: not measurable, {run['completed']}/{run['files']} files completed."]
    slowdown = quarters[-1]["seconds"] / quarters[0]["seconds"]
    rss = quarters[-1]["rssMiB"]
    checks = [
        (
            f"{run['filesPerSecond']} files/s over {run['files']} uploads "
            f"(goal at least {GOAL_FILES_PER_SECOND:g})",
            run["filesPerSecond"] >= GOAL_FILES_PER_SECOND,
        ),
        (
            f"last quarter {slowdown:.2f}x the first's time (goal at most {GOAL_SLOWDOWN:g}x)",
            slowdown <= GOAL_SLOWDOWN,
        ),
        (f"{rss} MiB after {run['files']} files (goal under {GOAL_RSS_MIB})", rss < GOAL_RSS_MIB),
    ]
    return [f"- {'met' if ok else 'NOT met'}: {text}" for text, ok in checks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.local", description=__doc__)
    parser.add_argument("--files", type=int, default=FILES)
    parser.add_argument(
        "--baseline-files", type=int, default=BASELINE_FILES, help="0 skips the baseline"
    )
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON result file")
    parser.add_argument("--render", type=Path, help="print the Markdown of a saved JSON result")
    args = parser.parse_args(argv)
    if args.render:
        print(markdown(json.loads(args.render.read_text())))
        return 0
    results: dict[str, Any] = {
        "command": "python -m bench.local" + (f" {' '.join(argv)}" if argv else ""),
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "loadAverage": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "runs": [],
    }
    plans = [("filetrail local", filetrail_command(), args.files)]
    if args.baseline_files:
        plans.append(("naive: moto as shipped", naive_command(), args.baseline_files))
    for label, command, files in plans:
        print(f"measuring {label}: {files} files", file=sys.stderr)
        run = Run(label, command, files, args.deadline)
        results["runs"].append(run.measure())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    print(f"JSON written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
