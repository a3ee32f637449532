"""`python -m bench.state_dir`: what `filetrail local --state-dir` costs at a stop and a start.

For the demo's sample files and for 1,000 files (8 upload threads), each processed before
the stop: SIGTERM, then the save's own time (the stop line's `saved.seconds`), the whole
stop (signal to exit), the state's size on disk, and the next start's time to its ready
line with the restored counts. Local mode must exit within 5 s of a SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config

from filetrail.demo import SAMPLES
from filetrail.local.stack import CREDENTIALS
from handlers import schema
from tests.support.samples import PNG

THREADS = 8
READY_SECONDS = 60
DEADLINE_SECONDS = 300
BATCH_KEYS = 100


def _start(state_dir: Path, stderr: IO[str]) -> tuple[subprocess.Popen[str], dict[str, Any], float]:
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "filetrail", "local", "--json", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert process.stdout is not None  # noqa: S101 - piped above
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"filetrail local exited with {process.wait()} before it was ready")
    return process, json.loads(line), time.monotonic() - started


def _stop(process: subprocess.Popen[str]) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=60)
    return code, time.monotonic() - started


def _last(stderr: IO[str], message: str) -> dict[str, Any]:
    stderr.seek(0)
    found: dict[str, Any] = {}
    for line in stderr:
        if f'"{message}"' in line:
            found = json.loads(line)
    return found


def _upload_and_wait(ready: dict[str, Any], files: list[tuple[str, bytes, str]]) -> None:
    session = boto3.session.Session(
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        region_name=ready["region"],
    )
    config = Config(max_pool_connections=THREADS * 2)
    s3 = session.client("s3", endpoint_url=ready["endpoint_url"], config=config)
    dynamodb = session.client("dynamodb", endpoint_url=ready["endpoint_url"], config=config)

    def upload(file: tuple[str, bytes, str]) -> None:
        key, body, content_type = file
        s3.put_object(Bucket=ready["bucket"], Key=key, Body=body, ContentType=content_type)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(upload, files))
    pending = {schema.document_id(ready["bucket"], key) for key, _, _ in files}
    deadline = time.monotonic() + DEADLINE_SECONDS
    while pending and time.monotonic() < deadline:
        waiting = sorted(pending)
        for start in range(0, len(waiting), BATCH_KEYS):
            batch = waiting[start : start + BATCH_KEYS]
            keys = [
                {
                    schema.PARTITION_KEY: {"S": document_id},
                    schema.SORT_KEY: {"S": schema.STATUS_SORT_KEY},
                }
                for document_id in batch
            ]
            response = dynamodb.batch_get_item(
                RequestItems={ready["table"]: {"Keys": keys, "ConsistentRead": True}}
            )
            for item in response["Responses"][ready["table"]]:
                if item["status"]["S"] != schema.Status.PROCESSING.value:
                    pending.discard(item[schema.PARTITION_KEY]["S"])
        time.sleep(0.25)  # polling interval of a deadline-bounded wait
    if pending:
        raise SystemExit(f"{len(pending)} file(s) had no outcome after {DEADLINE_SECONDS} s")


def measure(label: str, files: list[tuple[str, bytes, str]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory, tempfile.TemporaryFile("w+") as stderr:
        state_dir = Path(directory) / "state"
        process, ready, _ = _start(state_dir, stderr)
        try:
            _upload_and_wait(ready, files)
        finally:
            exit_code, stop_seconds = _stop(process)
        saved = _last(stderr, "filetrail.local.stopped").get("saved") or {}
        size = sum(p.stat().st_size for p in state_dir.rglob("*") if p.is_file())
        process, _, start_seconds = _start(state_dir, stderr)
        restored = _last(stderr, "filetrail.local.ready").get("restored")
        _stop(process)
    return {
        "label": label,
        "files": len(files),
        "saveSeconds": saved.get("seconds"),
        "stopSeconds": round(stop_seconds, 3),
        "exitCode": exit_code,
        "stateBytes": size,
        "restartToReadySeconds": round(start_seconds, 3),
        "restored": restored,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.state_dir", description=__doc__)
    parser.add_argument("--files", type=int, default=1000, help="files in the large run")
    args = parser.parse_args(argv)
    demo = [(s.key, s.body, s.content_type) for s in SAMPLES]
    large = [(f"bench/{n}.png", PNG + n.to_bytes(4, "big"), "image/png") for n in range(args.files)]
    results = [measure("demo samples", demo), measure(f"{args.files} files", large)]
    print("| run | files | save | whole stop | exit | state on disk | restart to ready |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['label']} | {r['files']} | {r['saveSeconds']} s | {r['stopSeconds']} s "
            f"| {r['exitCode']} | {r['stateBytes'] / 1024:,.0f} KiB "
            f"| {r['restartToReadySeconds']} s |"
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
