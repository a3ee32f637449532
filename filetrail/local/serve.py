"""`filetrail local`: run the local stack until interrupted."""

from __future__ import annotations

from filetrail.errors import CliError


def serve(*, port: int, as_json: bool) -> int:
    raise CliError("local mode is not implemented yet")
