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


PATH_TITLES = {
    "success": "success",
    "rejected": "rejected",
    "duplicate": "duplicate delivery",
}
ROWS: tuple[tuple[str, str, Any], ...] = (
    ("what it recorded", "verdict", str),
    ("S3 requests", "s3Requests", str),
    ("bytes read from S3", "s3BytesRead", _bytes),
    ("DynamoDB requests", "dynamodbRequests", str),
    ("DynamoDB write requests", "dynamodbWriteRequests", str),
    ("write units, table items", "tableWriteUnits", str),
    ("write units, status index", "indexWriteUnits", str),
    ("write units, total", "writeUnits", str),
    ("read units", "readUnits", lambda v: f"{v:g}"),
    ("handler time, median (ms)", "medianMs", lambda v: f"{v:.2f}"),
    ("handler time, p99 (ms)", "p99Ms", lambda v: f"{v:.2f}"),
    ("cost per million files (USD)", "costTotal", lambda v: f"{v:.2f}"),
)


def _load(results: dict[str, Any]) -> str:
    """The machine's load: times (not counts) grow with it on a shared machine."""
    if "loadAverageAtStart" not in results:
        return ""
    return (
        f", 1-minute load average {results['loadAverageAtStart']:g} at the start and "
        f"{results['loadAverageAtEnd']:g} at the end (times, not counts, grow with it)"
    )


def _size_table(label: str, paths: dict[str, Any]) -> list[str]:
    files = paths["success"]["filetrail"]["files"]
    header = "| per file |" + "".join(
        f" {PATH_TITLES[path]}: filetrail | baseline |" for path in paths
    )
    lines = [
        f"## {label} file ({files} files measured down each path)",
        "",
        header,
        "|---|" + "---:|---:|" * len(paths),
    ]
    for title, name, fmt in ROWS:
        cells = "".join(
            f" {fmt(designs['filetrail'][name])} | {fmt(designs['baseline'][name])} |"
            for designs in paths.values()
        )
        lines.append(f"| {title} |{cells}")
    lines.append("")
    for path, designs in paths.items():
        ft, base = designs["filetrail"], designs["baseline"]
        lines.append(
            f"S3 operations, {PATH_TITLES[path]} — "
            f"filetrail: {_ops(ft['s3Operations']) or 'none'}; "
            f"baseline: {_ops(base['s3Operations']) or 'none'}."
        )
    ratio_line = ", ".join(
        f"{PATH_TITLES[path]} {ratio(d['filetrail']['costTotal'], d['baseline']['costTotal'])}"
        for path, d in paths.items()
    )
    lines += ["", f"Cost ratio filetrail / baseline: {ratio_line}.", ""]
    return lines


def _difference(variants: dict[str, Any], more: str, less: str) -> str:
    if more not in variants or less not in variants:
        return "n/a"
    cpu = variants[more]["cpuMedianMs"] - variants[less]["cpuMedianMs"]
    wall = variants[more]["wallMedianMs"] - variants[less]["wallMedianMs"]
    return f"{cpu:.1f} ms CPU ({wall:.1f} ms wall)"


def _cold_start(cold: dict[str, Any]) -> list[str]:
    variants = cold["variants"]
    sizes = cold["archiveBytes"]
    lines = [
        f"## Cold start, as Lambda runs it (median of {cold['repetitions']} fresh "
        f"interpreters, Python {cold['python']})",
        "",
        "The deployment archive unpacked into a task root, `LAMBDA_TASK_ROOT` and Lambda's "
        "other variables set (so the handler builds its clients at import, as there), the "
        "runtime's SDK beside it, nothing written back (the task root is read-only); the "
        "import of the handler module timed in a fresh process (bench/coldstart.py). CPU "
        "time is the figure to read: this machine is shared, and wall time swings with "
        "its load. Interpreter start-up and Lambda's own bootstrap are not included.",
        "",
        *(f"{note}" for note in cold["notes"]),
        "" if cold["notes"] else None,
        "| import | CPU ms | wall ms |",
        "|---|---:|---:|",
        *(
            f"| {v['title']} | {v['cpuMedianMs']:.1f} | {v['wallMedianMs']:.1f} |"
            for v in variants.values()
        ),
        "",
        f"- Compiled files save {_difference(variants, 'sources', 'compiled')} per cold start; "
        f"the archive grows from {sizes['sources'] / 1024:.0f} KiB to "
        f"{sizes['compiled'] / 1024:.0f} KiB.",
        f"- The X-Ray SDK, inside Lambda, would add "
        f"{_difference(variants, 'xraySdkInLambda', 'compiled')}; outside Lambda "
        f"(`LAMBDA_TASK_ROOT` unset, the path an earlier version of this bench measured) "
        f"{_difference(variants, 'xraySdkOutsideLambda', 'compiled')}.",
        "",
    ]
    return [line for line in lines if line is not None]


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# filetrail vs the naive baseline",
        "",
        f"Command: `{results['command']}` — run {results['startedAt']}, "
        f"Python {results['python']}, {results['cpus']} CPUs{_load(results)}.",
        "",
        "The two designs do not do the same job. The baseline (bench/baseline.py) downloads "
        "the whole object, detects its type from the bytes (`filetype.guess`), checks the size "
        "limit and the allow-list on that type, and writes one item under a random id: no "
        "extension or Content-Type check, no name check, no tag (so no quarantine), no "
        "history, and a redelivered notification writes a second row. filetrail "
        "(`handlers.app` as deployed) reads one ranged GET of at most 64 KiB, checks magic "
        "bytes against the extension and the Content-Type, the name, the size and the "
        "allow-list, tags the object with its outcome, and records it in two "
        "`TransactWriteItems` (events, phase marker, status item) that a redelivery finds "
        "and does not repeat.",
        "",
        "Paths: **success** is a valid PNG; **rejected** is an ELF executable named `.png` "
        "(both designs refuse it: the baseline by its detected type, filetrail as "
        "`TYPE_MISMATCH`); **duplicate delivery** is the success path's notification "
        "delivered a second time.",
        "",
        "Both run in-process against moto's in-process mock (`mock_aws`), sequentially, "
        "one thread, on the same objects; times are Python + emulator CPU time, not AWS "
        "network latency. Write units follow DynamoDB's documented rules "
        "(tests/support/capacity.py): 1 unit per KB of each item written, 2 in a "
        "transaction; the status index's writes are counted from each item before and "
        "after the write (an item entering the index costs a put, a status change a delete "
        "and a put), at the standard rate. Read units count 1 per strongly consistent item "
        "under 4 KB. moto answers a ranged GET by slicing the whole stored object, so "
        "filetrail's time at 100 MiB includes a copy of the whole file that real S3 does "
        "not make; bytes read are what crossed the API.",
        "",
    ]
    for label, paths in results["sizes"].items():
        lines += _size_table(label, paths)
    lines += _cold_start(results["coldStart"])
    lines += [
        "## Cost per million files (USD), by line",
        "",
        f"Lambda compute at {results['lambdaMemoryMb']} MB for both, from the median handler "
        "time above (emulator time: a real full GET of a large object also pays network "
        "transfer time, which only the baseline does).",
        "",
    ]
    header = (
        "| size | path | design | S3 requests | DynamoDB writes | DynamoDB reads | Lambda | total |"
    )
    lines += [header, "|---|---|---|---:|---:|---:|---:|---:|"]
    for label, paths in results["sizes"].items():
        for path, designs in paths.items():
            for design in ("filetrail", "baseline"):
                cost = designs[design]["cost"]
                compute = cost["lambdaCompute"] + cost["lambdaRequests"]
                lines.append(
                    f"| {label} | {PATH_TITLES[path]} | {design} | {cost['s3Requests']:.2f} "
                    f"| {cost['dynamodbWrites']:.2f} | {cost['dynamodbReads']:.2f} "
                    f"| {compute:.2f} | {cost['total']:.2f} |"
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
