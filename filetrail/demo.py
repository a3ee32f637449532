"""`filetrail demo`: the whole pipeline on the local stack, in one command."""

from __future__ import annotations

from filetrail.errors import CliError


def run_demo() -> int:
    raise CliError("the demo is not implemented yet")
