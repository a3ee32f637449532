"""What every command needs: the resolved stack, AWS clients, and where output goes."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TextIO

from rich.console import Console

from filetrail import render
from filetrail.aws import Clients
from filetrail.stack import StackResolver
from handlers.store import AuditStore


@dataclass
class Context:
    stack: StackResolver
    clients: Clients
    json: bool
    stdout: TextIO
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Progress for a person goes here, so stdout stays the one document or table.
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    @cached_property
    def out(self) -> Console:
        return render.console(self.stdout)

    @cached_property
    def store(self) -> AuditStore:
        return AuditStore(
            self.clients.client("dynamodb"),
            self.stack.table(),
            index_shards=self.stack.index_shards(),
        )
