"""`filetrail local --state-dir DIR`: the saved form of a local stack, and which directories
may be read and written.

A state is a manifest, DIR/filetrail-state.json, naming one data directory beside it: the
bucket's versions, the table's items and the queues' messages as JSON, and the object
bodies in one pack file (one file to fsync, not one per object: 1,000 fsyncs took 1.9 s on
the project's machine, and a stop has 5 s). A save writes the new data directory under a
temporary name, renames it into place, then swaps the manifest with os.replace, which is
atomic: at every instant the manifest names a complete state, the old one or the new. The
old state then moves to DIR/previous, a state directory in its own right, replacing the
one kept before it; nothing is overwritten without being moved aside first.

Anything this module does not recognise as a state it refuses, with a message saying what
is wrong, and leaves alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from filetrail.errors import EXIT_USAGE, CliError

FORMAT = "filetrail-local-state"
VERSION = 1
MANIFEST = "filetrail-state.json"
PREVIOUS = "previous"
# A save's temporary entries: never part of a state, so ignored when judging a directory.
PARTIAL_PREFIX = ".filetrail-partial-"
S3_FILE = "s3.json"
TABLE_FILE = "dynamodb.json"
QUEUES_FILE = "sqs.json"
PACK_FILE = "objects.bin"
_DATA_NAME = re.compile(r"state-[0-9]{8}T[0-9]{6}[0-9]{6}Z")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_READ_CHUNK = 1 << 20


class StateDirError(CliError):
    """A --state-dir that cannot be used as given; the directory is left as it was."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Identity:
    """What a state belongs to: a state is restored only into the stack it was saved from."""

    stack: str
    region: str
    bucket: str
    table: str
    queues: tuple[str, ...]

    def resources(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "table": self.table, "queues": list(self.queues)}


@dataclass
class Snapshot:
    """A local stack's contents, as they are saved.

    `versions`: every version and delete marker of the bucket, each key's oldest first; an
    object version names its body by SHA-256 in `bodies`. `items`: the table's items in
    DynamoDB's JSON, as DynamoDB serves them. `queues`: each queue's messages, by name.
    """

    versions: list[dict[str, Any]] = field(default_factory=list)
    bodies: dict[str, bytes] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        markers = sum(1 for version in self.versions if version.get("deleteMarker"))
        return {
            "objectVersions": len(self.versions) - markers,
            "deleteMarkers": markers,
            "bodies": len(self.bodies),
            "items": len(self.items),
            "messages": sum(len(messages) for messages in self.queues.values()),
        }


@dataclass(frozen=True)
class Manifest:
    saved_at: str
    data: str
    counts: dict[str, int]


def manifest_document(identity: Identity, manifest: Manifest) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "stack": identity.stack,
        "region": identity.region,
        "resources": identity.resources(),
        "savedAt": manifest.saved_at,
        "data": manifest.data,
        "counts": manifest.counts,
    }


def validate_manifest(document: Any, identity: Identity, where: str) -> Manifest:
    """The manifest `document` (parsed JSON read from `where`), if it is a state of this
    stack that this version reads; else a StateDirError saying what is wrong."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise StateDirError(
            f"{where} is not a filetrail local state (format {found!r}, expected {FORMAT!r})"
        )
    version = document.get("version")
    if version != VERSION:
        raise StateDirError(
            f"{where} is a filetrail local state of format version {version!r}; "
            f"this filetrail reads version {VERSION}"
        )
    if document.get("stack") != identity.stack:
        raise StateDirError(
            f"{where} is the state of stack {document.get('stack')!r}, not {identity.stack!r}"
        )
    if document.get("region") != identity.region:
        raise StateDirError(
            f"{where} was saved in region {document.get('region')!r}, not {identity.region!r}"
        )
    if document.get("resources") != identity.resources():
        raise StateDirError(
            f"{where} names other resources ({document.get('resources')!r}) than this "
            f"stack's ({identity.resources()!r})"
        )
    saved_at, data, counts = document.get("savedAt"), document.get("data"), document.get("counts")
    if not isinstance(saved_at, str):
        raise StateDirError(f"{where} is corrupt: savedAt is missing or not a string")
    if not isinstance(data, str) or not _DATA_NAME.fullmatch(data):
        raise StateDirError(f"{where} is corrupt: data is not a state-<time> directory name")
    if not isinstance(counts, dict) or not all(
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
        for value in counts.values()
    ):
        raise StateDirError(f"{where} is corrupt: counts is not a map of counts")
    return Manifest(saved_at, data, dict(counts))


class StateDir:
    """A --state-dir, opened for this process alone: it holds a lock on the directory
    until `close`, so two local stacks never save over each other."""

    def __init__(
        self,
        path: Path,
        identity: Identity,
        lock_fd: int,
        manifest: Manifest | None,
        snapshot: Snapshot | None,
    ) -> None:
        self.path = path
        self.identity = identity
        self._lock_fd: int | None = lock_fd
        self.manifest = manifest
        self.restored = snapshot

    @classmethod
    def open(cls, path: Path, identity: Identity) -> StateDir:
        """The state in `path` (None for a missing or empty directory, which is created),
        or a StateDirError that leaves the directory untouched."""
        path = path.expanduser().absolute()
        if path.exists() and not path.is_dir():
            raise StateDirError(f"--state-dir {path} is not a directory")
        if not path.exists():
            try:
                path.mkdir(parents=True)
            except OSError as error:
                raise StateDirError(f"cannot create --state-dir {path}: {error.strerror}") from None
        entries = _entries(path)
        manifest_path = path / MANIFEST
        if entries and MANIFEST not in entries:
            shown = ", ".join(sorted(entries)[:5]) + (", ..." if len(entries) > 5 else "")
            raise StateDirError(
                f"--state-dir {path} is not empty and holds no {MANIFEST}, so it is not a "
                f"filetrail local state ({shown}); pass an empty or new directory"
            )
        lock_fd = _lock(path)
        try:
            if not entries:
                return cls(path, identity, lock_fd, None, None)
            manifest = validate_manifest(_read_json(manifest_path), identity, str(manifest_path))
            snapshot = _load(path / manifest.data, manifest)
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(path, identity, lock_fd, manifest, snapshot)

    def save(self, snapshot: Snapshot, now: datetime | None = None) -> Manifest:
        """Write `snapshot` as the current state, moving the state it replaces aside."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        data = "state-" + moment.strftime("%Y%m%dT%H%M%S%fZ")
        manifest = Manifest(
            moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            data,
            snapshot.counts(),
        )
        old = self.manifest
        if (self.path / data).exists():
            raise StateDirError(f"a state named {data} was already saved in {self.path}")
        self._clear_partials()
        partial = self.path / f"{PARTIAL_PREFIX}{data}"
        _write_data(partial, snapshot)
        os.replace(partial, self.path / data)
        aside = self.path / f"{PARTIAL_PREFIX}{PREVIOUS}"
        if old is not None:
            aside.mkdir()
            shutil.copy2(self.path / MANIFEST, aside / MANIFEST)
        manifest_partial = self.path / f"{PARTIAL_PREFIX}{MANIFEST}"
        with manifest_partial.open("w", encoding="utf-8") as out:
            json.dump(manifest_document(self.identity, manifest), out, indent=2)
            out.write("\n")
            _sync(out)
        os.replace(manifest_partial, self.path / MANIFEST)
        _sync_directory(self.path)
        if old is not None:
            # Committed: the old state's data joins its manifest, and the pair becomes
            # DIR/previous. A crash from here on leaves the new state whole.
            if (self.path / old.data).is_dir():
                os.replace(self.path / old.data, aside / old.data)
            discard = self.path / f"{PARTIAL_PREFIX}discard"
            if (self.path / PREVIOUS).exists():
                os.replace(self.path / PREVIOUS, discard)
            os.replace(aside, self.path / PREVIOUS)
            shutil.rmtree(discard, ignore_errors=True)
            _sync_directory(self.path)
        self.manifest = manifest
        return manifest

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _clear_partials(self) -> None:
        """What an interrupted save left: never part of any state."""
        for entry in self.path.iterdir():
            if entry.name.startswith(PARTIAL_PREFIX):
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()


def _entries(path: Path) -> set[str]:
    try:
        return {e.name for e in path.iterdir() if not e.name.startswith(PARTIAL_PREFIX)}
    except OSError as error:
        raise StateDirError(f"cannot read --state-dir {path}: {error.strerror}") from None


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StateDirError(
            f"--state-dir {path} is in use by another filetrail local; stop it first"
        ) from None
    return fd


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as source:
            return json.load(source)
    except FileNotFoundError:
        raise StateDirError(f"the state is corrupt: {path} is missing") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StateDirError(f"cannot read {path}: {error}") from None
    except ValueError as error:
        raise StateDirError(f"the state is corrupt: {path} is not valid JSON ({error})") from None


def _load(data: Path, manifest: Manifest) -> Snapshot:
    if not data.is_dir():
        raise StateDirError(f"the state is corrupt: its data directory {data} is missing")
    s3, table, queues = (_read_json(data / name) for name in (S3_FILE, TABLE_FILE, QUEUES_FILE))
    try:
        versions = _list_of_dicts(s3["versions"])
        items = _list_of_dicts(table["items"])
        queue_messages = {
            str(name): _list_of_dicts(messages) for name, messages in queues["queues"].items()
        }
        pack_index = {str(sha): (int(at), int(size)) for sha, (at, size) in s3["bodies"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise StateDirError(f"the state in {data} is corrupt: {error!r}") from None
    bodies = _read_pack(data / PACK_FILE, pack_index)
    for version in versions:
        if not version.get("deleteMarker") and version.get("body") not in bodies:
            raise StateDirError(
                f"the state in {data} is corrupt: version {version.get('versionId')!r} of "
                f"{version.get('key')!r} has no body in {PACK_FILE}"
            )
    snapshot = Snapshot(versions, bodies, items, queue_messages)
    if snapshot.counts() != manifest.counts:
        raise StateDirError(
            f"the state in {data} is corrupt: it holds {snapshot.counts()}, "
            f"its manifest says {manifest.counts}"
        )
    return snapshot


def _list_of_dicts(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TypeError("expected a list of objects")
    return value


def _read_pack(path: Path, index: Mapping[str, tuple[int, int]]) -> dict[str, bytes]:
    bodies: dict[str, bytes] = {}
    try:
        with path.open("rb") as pack:
            for sha, (offset, length) in index.items():
                pack.seek(offset)
                body = pack.read(length)
                if len(body) != length or hashlib.sha256(body).hexdigest() != sha:
                    raise StateDirError(
                        f"the state is corrupt: a body in {path} does not match its SHA-256"
                    )
                bodies[sha] = body
    except OSError as error:
        raise StateDirError(f"the state is corrupt: cannot read {path}: {error}") from None
    return bodies


def _write_data(directory: Path, snapshot: Snapshot) -> None:
    directory.mkdir()
    index: dict[str, list[int]] = {}
    with (directory / PACK_FILE).open("wb") as pack:
        for sha, body in snapshot.bodies.items():
            if not _SHA256.fullmatch(sha) or hashlib.sha256(body).hexdigest() != sha:
                raise ValueError("a body is not named by its SHA-256")
            index[sha] = [pack.tell(), len(body)]
            pack.write(body)
        _sync(pack)
    documents = {
        S3_FILE: {"versions": snapshot.versions, "bodies": index},
        TABLE_FILE: {"items": snapshot.items},
        QUEUES_FILE: {"queues": snapshot.queues},
    }
    for name, document in documents.items():
        # dumps, not dump: only a one-shot encode runs json's C encoder.
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        with (directory / name).open("w", encoding="utf-8") as out:
            out.write(text)
            _sync(out)
    _sync_directory(directory)


def _sync(stream: IO[Any]) -> None:
    stream.flush()
    os.fsync(stream.fileno())


def _sync_directory(path: Path) -> None:
    """A rename is durable once the directory holding it is synced."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def opened(path: Path | None, identity: Identity) -> Iterator[StateDir | None]:
    if path is None:
        yield None
        return
    state = StateDir.open(path, identity)
    try:
        yield state
    finally:
        state.close()
