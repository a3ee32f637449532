"""The benchmark's Markdown: one table per file size, cold start, and cost."""

from __future__ import annotations

from typing import Any

from bench.prices import PRICES_NOTE


def ratio(filetrail: float, baseline: float) -> str:
    if baseline == 0:
        return "n/a" if filetrail == 0 else "inf"
    return f"{filetrail / baseline:.3g}"


def _bytes(value: float) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if value >= scale:
            return f"{value / scale:g} {unit}"
    return f"{value:g} B"


def _ops(operations: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in operations.items())


ROWS: tuple[tuple[str, str, Any], ...] = (
    ("S3 requests", "s3Requests", str),
    ("bytes read from S3", "s3BytesRead", _bytes),
    ("DynamoDB requests", "dynamodbRequests", str),
    ("DynamoDB write requests", "dynamodbWriteRequests", str),
    ("DynamoDB write units", "writeUnits", str),
    ("DynamoDB read units", "readUnits", lambda v: f"{v:g}"),
    ("handler time, median (ms)", "medianMs", lambda v: f"{v:.2f}"),
    ("handler time, p99 (ms)", "p99Ms", lambda v: f"{v:.2f}"),
    ("files per second (1 thread)", "filesPerSecond", lambda v: f"{v:.1f}"),
    ("write requests on a duplicate delivery", "duplicateDeliveryWriteRequests", str),
    ("cost per million files (USD)", "costTotal", lambda v: f"{v:.2f}"),
)


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# filetrail vs the naive baseline",
        "",
        f"Command: `{results['command']}` — run {results['startedAt']}, "
        f"Python {results['python']}, {results['cpus']} CPUs.",
        "",
        "Baseline: full `GetObject`, `filetype.guess` on the whole body, one `PutItem` "
        "with a random uuid id (bench/baseline.py). filetrail: `handlers.app` as deployed "
        "(one ranged GET, tag, two `TransactWriteItems`).",
        "Both run in-process against moto's in-process mock (`mock_aws`), sequentially, "
        "one thread, on the same objects; times are Python + emulator CPU time, not AWS "
        "network latency. Write units follow DynamoDB's documented item-size rules "
        "(tests/support/capacity.py; transactional writes cost 2 units per KB); read units "
        "count 1 per strongly consistent item under 4 KB. moto answers a ranged GET by "
        "slicing the whole stored object, so filetrail's time at 100 MiB includes a copy "
        "of the whole file that real S3 does not make; bytes read are what crossed the API.",
        "",
    ]
    for label, sizes in results["sizes"].items():
        ft, base = sizes["filetrail"], sizes["baseline"]
        lines += [
            f"## {label} file ({ft['files']} files measured)",
            "",
            "| per file | filetrail | baseline | filetrail / baseline |",
            "|---|---:|---:|---:|",
        ]
        for title, name, fmt in ROWS:
            lines.append(
                f"| {title} | {fmt(ft[name])} | {fmt(base[name])} | {ratio(ft[name], base[name])} |"
            )
        lines += [
            "",
            f"S3 operations — filetrail: {_ops(ft['s3Operations'])}; "
            f"baseline: {_ops(base['s3Operations'])}.",
            "",
        ]
    cold = results["coldStart"]
    lines += [
        f"## Cold start (import time, fresh interpreter, median of {cold['repetitions']})",
        "",
        "| import | ms |",
        "|---|---:|",
        f"| `import handlers.app` (filetrail) | {cold['handlerImportMs']:.1f} |",
        f"| `import boto3` alone | {cold['boto3ImportMs']:.1f} |",
        f"| ratio | {ratio(cold['handlerImportMs'], cold['boto3ImportMs'])} |",
        "",
        "## Cost per million files (USD), by line",
        "",
        f"Lambda compute at {results['lambdaMemoryMb']} MB for both, from the median handler "
        "time above (emulator time: a real full GET of a large object also pays network "
        "transfer time, which only the baseline does).",
        "",
    ]
    header = "| size | design | S3 requests | DynamoDB writes | DynamoDB reads | Lambda | total |"
    lines += [header, "|---|---|---:|---:|---:|---:|---:|"]
    for label, sizes in results["sizes"].items():
        for design in ("filetrail", "baseline"):
            cost = sizes[design]["cost"]
            compute = cost["lambdaCompute"] + cost["lambdaRequests"]
            lines.append(
                f"| {label} | {design} | {cost['s3Requests']:.2f} | {cost['dynamodbWrites']:.2f} "
                f"| {cost['dynamodbReads']:.2f} | {compute:.2f} "
                f"| {cost['total']:.2f} |"
            )
    prices = results["prices"]
    lines += [
        "",
        f"Prices: S3 GET ${prices['s3_get_per_1000']} per 1,000; S3 PUT/tagging "
        f"${prices['s3_put_per_1000']} per 1,000; DynamoDB on-demand "
        f"${prices['dynamodb_write_per_million_wru']} per million write units (was $1.25 "
        f"before Nov 2024) and ${prices['dynamodb_read_per_million_rru']} per million read "
        f"units; Lambda ${prices['lambda_per_gb_second']} per GB-s + "
        f"${prices['lambda_per_million_requests']} per million requests. {PRICES_NOTE}",
        "",
    ]
    return "\n".join(lines)
