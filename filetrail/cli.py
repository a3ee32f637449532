"""`filetrail`: ask what happened to a file, follow it to its trace, run the stack locally.

Startup is part of the interface: `--help`, completion and usage errors import nothing
beyond argparse and this package's light modules; boto3, rich and moto load only when a
command needs them (see bench/cli_startup.py).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlparse

from filetrail.completion import SHELLS, script
from filetrail.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CliError, UsageError
from filetrail.inert import inert
from handlers.errors import (
    AccessDeniedError,
    FiletrailError,
    MissingCredentialsError,
    TableNotFoundError,
    TransientError,
)
from handlers.schema import Status

PROG = "filetrail"
MAX_LIMIT = 1000
EXIT_INTERRUPTED = 130
UI_PORT = 8765

if TYPE_CHECKING:
    from filetrail.context import Context

Command = Callable[["Context", argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LIMIT}")
    return value


def _index_shards(text: str) -> int:
    from filetrail.stack import parse_index_shards  # noqa: PLC0415 - keep startup light

    try:
        return parse_index_shards(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("must be a positive, finite number of seconds")
    return value


def _delay(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError("must be zero or a positive, finite number of seconds")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535")
    return value


class _Version(argparse.Action):
    """`--version`, reading the installed distribution only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)  # type: ignore[arg-type]

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> NoReturn:
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            number = version(PROG)
        except PackageNotFoundError:
            number = "unknown (not installed)"
        sys.stdout.write(f"{PROG} {number}\n")
        parser.exit()


def _options(*, audit: bool = True, submits: bool = False, dead_letters: bool = False) -> Parser:
    """The options of a command that uses the stack: `audit` the table and bucket,
    `submits` where to send an event, `dead_letters` the dead-letter queue."""
    common = Parser(add_help=False)
    # SUPPRESS: the command's --json must not reset one given before the command.
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print exactly one JSON document",
    )
    stack = common.add_argument_group("stack (default: FILETRAIL_* variables, then Pulumi)")
    if audit:
        stack.add_argument("--table", help="audit table name [FILETRAIL_TABLE]")
        stack.add_argument("--bucket", help="upload bucket, for bare keys [FILETRAIL_BUCKET]")
    if submits:
        stack.add_argument("--function", help="handler function name [FILETRAIL_FUNCTION]")
        stack.add_argument(
            "--queue-url", help="local mode: the dispatcher's queue [FILETRAIL_QUEUE_URL]"
        )
    if dead_letters:
        stack.add_argument("--dlq-url", help="the dead-letter queue [FILETRAIL_DLQ_URL]")
    stack.add_argument("--stack", help="Pulumi stack to read outputs from [FILETRAIL_STACK]")
    stack.add_argument(
        "--index-shards",
        type=_index_shards,
        metavar="N",
        help="status index shards the stack writes [FILETRAIL_STATUS_INDEX_SHARDS]",
    )
    aws = common.add_argument_group("AWS")
    aws.add_argument("--region", help="AWS region [AWS_REGION]")
    aws.add_argument("--profile", help="AWS profile [AWS_PROFILE]")
    aws.add_argument("--endpoint-url", help="AWS endpoint, e.g. the local stack [AWS_ENDPOINT_URL]")
    return common


CSV_HELP = "print CSV for spreadsheets: a header row, every field, one row per item"
VERIFY_EPILOG = (
    "exit status: 0 when every stream replays to its status item, 3 when any drifted "
    "(the report names each), 1 on an error such as an unknown file, 2 on bad arguments"
)


def _add_ui(sub: argparse._SubParsersAction[Parser]) -> None:
    dashboard = sub.add_parser(
        "ui",
        parents=[_options(submits=True, dead_letters=True)],
        help="an operator dashboard in the browser, on 127.0.0.1",
        description=(
            "Serve an operator dashboard on 127.0.0.1: overview, files, one file's events, "
            "trace and actions, updated live. It reads with your own AWS credentials; open "
            "the address it prints (it carries the dashboard's access token)."
        ),
    )
    dashboard.add_argument(
        "--port",
        type=_port,
        default=UI_PORT,
        help=f"port to listen on (default {UI_PORT}; 0: any free)",
    )
    dashboard.add_argument("--open", action="store_true", help="open it in the web browser")
    dashboard.set_defaults(func=None, command="ui")


def _add_demo(sub: argparse._SubParsersAction[Parser]) -> None:
    demo = sub.add_parser(
        "demo",
        help="start the local stack, upload sample files, show what happened",
        description="Start the local stack, upload sample files, show what happened.",
    )
    demo.add_argument(
        "--ui",
        action="store_true",
        help="then serve the dashboard on the demo's files until Ctrl-C (see `filetrail ui`)",
    )
    demo.add_argument(
        "--port", type=_port, default=UI_PORT, help=f"--ui: port (default {UI_PORT}; 0: any free)"
    )
    demo.add_argument("--open", action="store_true", help="--ui: open it in the web browser")
    demo.set_defaults(func=None, command="demo")


def build_parser() -> Parser:
    parser = Parser(
        prog=PROG,
        description="Query a file's audit trail, follow its trace, and run the pipeline locally.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument(
        "--json", action="store_true", help="print exactly one JSON document (any command)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    file_help = "s3://bucket/key, a key in the stack's bucket, or a documentId"

    def add(
        name: str, func: str, help_text: str, *, submits: bool = False, epilog: str = ""
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(
            name,
            parents=[_options(submits=submits)],
            help=help_text,
            description=help_text,
            epilog=epilog or None,
        )
        command.set_defaults(func=func)
        return command

    events = add("history", "history", "every event of a file's stream, in order")
    events.add_argument("file", metavar="FILE", help=file_help)
    events.add_argument("--csv", action="store_true", help=CSV_HELP)
    add("status", "status", "a file's current status item").add_argument(
        "file", metavar="FILE", help=file_help
    )
    listing = add("list", "list_", "files by status, newest upload first")
    listing.add_argument(
        "--status",
        type=str.upper,
        choices=[str(s) for s in Status],
        help="only this status (any case)",
    )
    listing.add_argument("--since", help="uploaded since: 30m, 2h, 7d or an ISO 8601 time")
    listing.add_argument(
        "--older-than",
        metavar="AGE",
        help="uploaded before now minus AGE (30m, 2h, 7d) or before an ISO 8601 time: "
        "with --status PROCESSING, the files waiting too long for a verdict",
    )
    listing.add_argument("--limit", type=_limit, default=50, help="page size (default 50)")
    listing.add_argument("--cursor", help="continue a listing where the last page stopped")
    listing.add_argument("--csv", action="store_true", help=CSV_HELP)
    listing.add_argument(
        "--follow",
        action="store_true",
        help="keep polling and print each outcome as it happens, until Ctrl-C "
        "(with --json: one JSON document per line)",
    )
    tracing = add("trace", "trace", "an event's X-Ray trace as a timeline")
    tracing.add_argument("file", metavar="FILE", help=file_help)
    tracing.add_argument(
        "--event", type=int, metavar="SEQ", help="event seq (default: the latest traced event)"
    )
    verifying = add(
        "verify",
        "verify",
        "replay streams and compare with their status",
        epilog=VERIFY_EPILOG,
    )
    verifying.add_argument("file", metavar="FILE", nargs="?", help=file_help)
    verifying.add_argument("--all", action="store_true", help="every file in the table")
    again = add("reprocess", "reprocess", "run a file through validation again", submits=True)
    again.add_argument("file", metavar="FILE", help=file_help)
    again.add_argument("--wait", action="store_true", help="wait for the new outcome")
    again.add_argument(
        "--timeout", type=_seconds, default=30.0, help="seconds --wait waits (default 30)"
    )
    dlq = sub.add_parser(
        "dlq",
        help="what reached the dead-letter queue, and sending it back",
        description="What reached the dead-letter queue, and sending it back through processing.",
    )
    dlq_actions = dlq.add_subparsers(dest="action", metavar="ACTION", required=True)
    letters = dlq_actions.add_parser(
        "list",
        parents=[_options(audit=False, dead_letters=True)],
        help="each message's reason, file, time and attempts",
        description=(
            "Each message's reason, file, time and attempts. SQS has no peek: listing "
            "receives each message and makes it visible again, so it counts as an attempt."
        ),
    )
    letters.add_argument(
        "--limit", type=_limit, default=100, help="at most this many messages (default 100)"
    )
    letters.set_defaults(func="dlq_list")
    redrive = dlq_actions.add_parser(
        "redrive",
        parents=[_options(audit=False, submits=True, dead_letters=True)],
        help="send each message's event back through processing",
        description=(
            "Send each message's event back through processing (the function, or local "
            "mode's queue with --queue-url) and delete the message once that was accepted."
        ),
    )
    redrive.add_argument(
        "--limit", type=_limit, default=100, help="at most this many messages (default 100)"
    )
    redrive.set_defaults(func="dlq_redrive")
    _add_ui(sub)
    local = sub.add_parser(
        "local",
        help="run the pipeline on an embedded AWS emulator until interrupted",
        description="Run the pipeline on an embedded AWS emulator until interrupted.",
    )
    local.add_argument("--port", type=_port, default=0, help="emulator port (default: any free)")
    local.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the ready line as JSON",
    )
    local.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help=(
            "save the bucket, audit table and queues to DIR when stopped, and restore them "
            "from it at start (default: state is kept in memory only)"
        ),
    )
    local.add_argument(
        "--malware-scan",
        action="store_true",
        help="emulate GuardDuty Malware Protection for S3: a local scanner that finds the "
        "EICAR test file (and nothing else); files are trusted only once scanned clean",
    )
    local.add_argument(
        "--scan-delay",
        type=_delay,
        metavar="SECONDS",
        help="seconds from upload to scan (default 0: results then reach the function "
        "both before and after the file's validation)",
    )
    local.set_defaults(func=None, command="local")
    _add_demo(sub)
    completion = sub.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description=(
            'Print a completion script. bash: eval "$(filetrail completion bash)" in ~/.bashrc; '
            'zsh: eval "$(filetrail completion zsh)" in ~/.zshrc.'
        ),
    )
    completion.add_argument("shell", choices=SHELLS, help="the shell to complete for")
    completion.set_defaults(func=None, command="completion")
    return parser


def _context(args: argparse.Namespace) -> Context:
    from filetrail.aws import Clients  # noqa: PLC0415 - boto3 loads slowly
    from filetrail.context import Context  # noqa: PLC0415 - rich loads slowly
    from filetrail.stack import StackFlags, StackResolver  # noqa: PLC0415

    flags = StackFlags(
        getattr(args, "table", None),
        getattr(args, "bucket", None),
        getattr(args, "function", None),
        getattr(args, "queue_url", None),
        args.stack,
        getattr(args, "index_shards", None),
        getattr(args, "dlq_url", None),
    )
    return Context(
        stack=StackResolver(flags, os.environ),
        clients=Clients(
            # boto3 reads AWS_DEFAULT_REGION; the CLIs of AWS also honour AWS_REGION.
            region=args.region or os.environ.get("AWS_REGION") or None,
            endpoint_url=args.endpoint_url,
            profile=args.profile,
        ),
        json=args.json,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )


def _unreachable(error: BaseException) -> str | None:
    """The endpoint a connection failure names, wherever it sits in the cause chain."""
    if "botocore" not in sys.modules:
        return None  # nothing reached the network
    from botocore.exceptions import ConnectionError as BotoConnectionError  # noqa: PLC0415

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, BotoConnectionError):
            # EndpointConnectionError and ConnectTimeoutError name the endpoint.
            kwargs: dict[str, object] = dict(seen.kwargs)
            if kwargs.get("endpoint_url"):
                return str(kwargs["endpoint_url"])
        seen = seen.__cause__
    return None


def _cannot_connect(endpoint: str) -> str:
    from filetrail.aws import LOCAL_HOSTS  # noqa: PLC0415 - loaded already: the call failed

    message = f"cannot connect to the endpoint {endpoint}"
    host = urlparse(endpoint).hostname or ""
    if host in LOCAL_HOSTS or host.startswith("127."):
        message += (
            "; nothing is listening there: start the local stack with `filetrail local` "
            "and export the variables it prints"
        )
    else:
        message += "; check the network, --endpoint-url/AWS_ENDPOINT_URL and --region"
    return message


def _explain(error: FiletrailError) -> str:
    endpoint = _unreachable(error)
    if endpoint is not None:
        return _cannot_connect(endpoint)
    if isinstance(error, TableNotFoundError):
        return f"table not found ({error}); check --table/FILETRAIL_TABLE and the region"
    if isinstance(error, MissingCredentialsError):
        return (
            "no AWS credentials found: configure a profile (--profile/AWS_PROFILE) "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(error, AccessDeniedError):
        return f"access denied: {error}"
    if isinstance(error, TransientError):
        return f"AWS is throttling or unavailable, try again later: {error}"
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command == "completion":
            sys.stdout.write(script(args.shell, parser, PROG))
            return EXIT_OK
        if args.command == "local":
            if args.scan_delay is not None and not args.malware_scan:
                raise UsageError("--scan-delay needs --malware-scan")
            from filetrail.local.serve import serve  # noqa: PLC0415 - moto loads slowly
            from filetrail.local.stack import MalwareScan  # noqa: PLC0415

            scan = None
            if args.malware_scan:
                scan = MalwareScan() if args.scan_delay is None else MalwareScan(args.scan_delay)
            return serve(
                port=args.port, as_json=args.json, state_dir=args.state_dir, malware_scan=scan
            )
        if args.command == "demo":
            from filetrail.demo import run_demo  # noqa: PLC0415 - moto loads slowly

            return run_demo(ui_port=args.port if args.ui else None, open_browser=args.open)
        if getattr(args, "csv", False) and args.json:
            raise UsageError("--csv and --json are alternatives; pass one")
        ctx = _context(args)
        if args.command == "ui":
            from filetrail.ui.serve import serve as serve_ui  # noqa: PLC0415 - flask loads slowly

            return serve_ui(ctx, port=args.port, open_browser=args.open, as_json=args.json)
        command: Command = getattr(import_module("filetrail.commands"), args.func)
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        from handlers.aws_errors import translate  # noqa: PLC0415

        try:
            result: int = command(ctx, args)
        except (ClientError, BotoCoreError) as error:
            raise translate(error, args.command) from error
        return result
    except FiletrailError as error:
        # One line, whatever the error carries (an emulator's HTML error page, say).
        print(f"{PROG}: error: {inert(' '.join(_explain(error).split()))}", file=sys.stderr)
        return error.exit_code if isinstance(error, CliError) else EXIT_FAILURE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


__all__ = ["EXIT_USAGE", "build_parser", "main"]
