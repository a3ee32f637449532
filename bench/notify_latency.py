"""`python -m bench.notify_latency`: how soon a consumer learns a file's outcome, locally.

Runs `filetrail local` in this process, subscribes a queue to the file-events topic, uploads
files one at a time (a steady trickle, not a burst), and for each file measures the time
from the outcome event's `at` (when the handler recorded it) to the message reaching the
consumer's queue. Beside it, in the same run, the naive baseline: a consumer that polls the
status index once a second (what a consumer had to do before notifications) and notes when
it first sees each file's outcome. Local mode's figures, not AWS's: the stream relay polls
every 0.2 s, where Lambda's stream poller reads about four times a second per shard.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import threading
import time
from datetime import datetime
from typing import Any

from filetrail.local.stack import BUCKET, TABLE, LocalStack
from handlers.store import AuditStore
from tests.support.samples import PNG

FILES = 40
POLL_SECONDS = 1.0
GAP_SECONDS = 0.25


def _seconds_since(at: str, now: float) -> float:
    return now - datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


def run(files: int) -> dict[str, Any]:
    with LocalStack(log_handler=logging.NullHandler()) as stack:
        if stack.endpoints is None:
            raise SystemExit("local mode did not start")
        sqs, s3 = stack.client("sqs"), stack.client("s3")
        url = sqs.create_queue(QueueName="bench-consumer")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        stack.client("sns").subscribe(
            TopicArn=stack.endpoints.events_topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        store = AuditStore(stack.client("dynamodb"), TABLE)
        keys = [f"latency/{n:04d}.png" for n in range(files)]
        pushed: dict[str, float] = {}
        polled: dict[str, float] = {}
        done = threading.Event()

        def consume() -> None:
            while not done.is_set():
                batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                now = time.time()
                for message in batch.get("Messages", []):
                    body = json.loads(message["Body"])
                    pushed.setdefault(body["subject"], _seconds_since(body["time"], now))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

        def poll_index() -> None:
            while not done.is_set():
                now = time.time()
                for status in ("SUCCESS", "FAILED"):
                    for item in store.list_by_status(status, limit=100).items:
                        polled.setdefault(item.key, _seconds_since(item.updated_at, now))
                done.wait(POLL_SECONDS)

        threads = [threading.Thread(target=consume), threading.Thread(target=poll_index)]
        for thread in threads:
            thread.start()
        for key in keys:
            s3.put_object(Bucket=BUCKET, Key=key, Body=PNG + key.encode())
            time.sleep(GAP_SECONDS)  # a trickle of uploads, paced on purpose
        deadline = time.monotonic() + 120
        while (len(pushed) < files or len(polled) < files) and time.monotonic() < deadline:
            time.sleep(0.2)  # polling interval of a deadline-bounded wait
        done.set()
        for thread in threads:
            thread.join()
    return {"files": files, "notified": _summary(pushed), "polled": _summary(polled)}


def _summary(latencies: dict[str, float]) -> dict[str, float]:
    values = sorted(latencies.values())
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "median_ms": round(statistics.median(values) * 1000),
        "p95_ms": round(values[int(0.95 * (len(values) - 1))] * 1000),
        "max_ms": round(values[-1] * 1000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=FILES)
    figures = run(parser.parse_args().files)
    print(f"outcome -> consumer, {figures['files']} files uploaded {GAP_SECONDS}s apart")
    print(f"{'':24} {'median':>8} {'p95':>8} {'max':>8}")
    for name, label in (("notified", "notifications (SNS)"), ("polled", "polling the index 1/s")):
        row = figures[name]
        print(
            f"{label:24} {row.get('median_ms', '-'):>6}ms {row.get('p95_ms', '-'):>6}ms "
            f"{row.get('max_ms', '-'):>6}ms  ({row['count']} seen)"
        )


if __name__ == "__main__":
    main()
