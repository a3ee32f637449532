"""The Lambda deployment archive: `handlers/` plus its runtime dependencies, built for the
Lambda platform and zipped deterministically so unchanged inputs never trigger an update.

Dependencies are installed once per (requirements, architecture, Python version) into a
cache directory; the zip itself is cheap to rebuild and byte-identical for the same inputs.

Lambda's task root is read-only, so Python cannot cache what it compiles there: an archive
of sources alone is compiled again on every cold start. Where the build machine has an
interpreter of the runtime's Python version, the archive also ships compiled files in
`__pycache__/` beside the sources, as that version names them. They are unchecked-hash
pycs: they hold no timestamp (the zip stays reproducible) and Python loads them without
reading the source again, which is right for code that never changes once deployed.
Bytecode is the same on every architecture; only the Python version must match.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from infra.config import Architecture

LAMBDA_PYTHON_VERSION = "3.13"
PACKAGE_DIR = "handlers"
REQUIREMENTS_FILE = "requirements.txt"
# Zip epoch: the earliest timestamp the format can hold, so mtimes never leak in.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test", ".pytest_cache", ".mypy_cache"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Console scripts pip writes for dependencies: they name the build machine's interpreter.
EXCLUDED_DEPENDENCY_DIRS = frozenset({"bin"})
# The python3.13 runtime runs Amazon Linux 2023 (glibc 2.34). pip does not widen a
# manylinux_2_28 tag to older ones, so both are named: wheels built for either run there.
_PLATFORMS: dict[Architecture, tuple[str, ...]] = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
}
# Distributions the Lambda Python runtime already provides. Bundling botocore (which a
# dependency may require) would shadow the runtime's copy and pair it with a boto3 it was
# not released with, so requirements.txt lists the full closure and pip installs no deps.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
_COMPLETE_MARKER = ".complete"
# Where Lambda unpacks the archive: compiled files name their sources there, so a
# traceback points at the deployed path and the build machine's paths never leak in.
LAMBDA_TASK_ROOT = "/var/task"
_VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"


class PackagingError(RuntimeError):
    """The dependencies could not be installed for the Lambda platform."""


@dataclass(frozen=True)
class BuiltArchive:
    path: Path
    # Base64 SHA-256 of the zip, the form Lambda reports as CodeSha256.
    sha256_base64: str
    # The interpreter version the archive's compiled files are for; None: sources only.
    bytecode_version: str | None = None


@dataclass(frozen=True)
class Compiler:
    """An interpreter of the Lambda runtime's Python version, to compile the archive with."""

    executable: str
    version: str


def _version_of(executable: str) -> str | None:
    if executable == sys.executable:
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        result = subprocess.run(  # noqa: S603 - an interpreter found on PATH, fixed probe
            [executable, "-I", "-c", _VERSION_PROBE],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_compiler(
    version: str = LAMBDA_PYTHON_VERSION, candidates: Sequence[str | None] | None = None
) -> Compiler | None:
    """The running interpreter if it is `version`, else `python<version>` on PATH, else None."""
    if candidates is None:
        candidates = (sys.executable, shutil.which(f"python{version}"))
    for candidate in candidates:
        if candidate and _version_of(candidate) == version:
            return Compiler(candidate, version)
    return None


def compile_tree(compiler: Compiler, root: Path) -> None:
    """Write `__pycache__/*.pyc` beside every module under `root`, as Lambda will load them."""
    command = [
        compiler.executable,
        "-I",
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(root),
        "-p",
        LAMBDA_TASK_ROOT,
        str(root),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise PackagingError(
            f"Python {compiler.version} could not compile the archive: "
            f"{(result.stdout + result.stderr).strip()}"
        )


# (requirements file, architecture, target dir) -> installs the dependencies there.
Installer = Callable[[Path, Architecture, Path], None]


def pip_install(requirements: Path, architecture: Architecture, target: Path) -> None:
    """Install wheels for the Lambda runtime, never source builds for the host."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--no-deps",
        *(arg for platform in _PLATFORMS[architecture] for arg in ("--platform", platform)),
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        "--target",
        str(target),
        "--requirement",
        str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise PackagingError(
            f"pip could not install {requirements} for {architecture}: {result.stderr.strip()}"
        )


def dependencies_key(requirements: Path, architecture: Architecture) -> str:
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    digest.update(f"\0{architecture}\0{LAMBDA_PYTHON_VERSION}\0".encode())
    # A change in how dependencies are installed invalidates the cache too.
    digest.update("\0".join(_PLATFORMS[architecture]).encode())
    digest.update(b"\0--no-deps")
    return digest.hexdigest()[:24]


def cached_dependencies(
    requirements: Path,
    architecture: Architecture,
    cache_dir: Path,
    installer: Installer = pip_install,
) -> Path:
    """The directory holding the installed dependencies, installing them on a cache miss."""
    target = cache_dir / "deps" / f"{architecture}-{dependencies_key(requirements, architecture)}"
    if (target / _COMPLETE_MARKER).exists():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    installer(requirements, architecture, staging)
    (staging / _COMPLETE_MARKER).touch()
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _included(relative: Path) -> bool:
    if any(part in EXCLUDED_DIRS for part in relative.parts[:-1]):
        return False
    name = relative.name
    if name == _COMPLETE_MARKER or name.endswith(EXCLUDED_SUFFIXES):
        return False
    # Test modules may sit next to the code; they are never deployed.
    return not (name.startswith("test_") or name == "conftest.py")


def _files(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and _included(relative):
            yield (f"{prefix}{relative.as_posix()}", path)


def archive_entries(package_dir: Path, dependencies_dir: Path | None) -> list[tuple[str, Path]]:
    """(name in zip, source file), sorted; the package wins over a same-named dependency."""
    entries: dict[str, Path] = {}
    if dependencies_dir is not None:
        entries.update(
            (name, path)
            for name, path in _files(dependencies_dir, "")
            if name.split("/", 1)[0] not in EXCLUDED_DEPENDENCY_DIRS
        )
    entries.update(_files(package_dir, f"{package_dir.name}/"))
    return sorted(entries.items())


def write_zip(entries: list[tuple[str, Path]], destination: Path) -> BuiltArchive:
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.with_name(destination.name + ".partial")
    with zipfile.ZipFile(staging, "w") as archive:
        for name, source in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits are honoured
            archive.writestr(info, source.read_bytes(), compresslevel=9)
    staging.replace(destination)
    digest = hashlib.sha256(destination.read_bytes()).digest()
    return BuiltArchive(path=destination, sha256_base64=base64.b64encode(digest).decode())


def compiled_entries(
    entries: list[tuple[str, Path]], compiler: Compiler, workdir: Path
) -> list[tuple[str, Path]]:
    """`entries` plus the compiled file of each module, laid out as in the archive."""
    for name, source in entries:
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    compile_tree(compiler, workdir)
    compiled = [
        (path.relative_to(workdir).as_posix(), path)
        for path in workdir.rglob("*.pyc")
        if path.parent.name == "__pycache__"
    ]
    return sorted([*entries, *compiled])


def build_archive(
    project_root: Path,
    architecture: Architecture,
    *,
    cache_dir: Path | None = None,
    installer: Installer | None = pip_install,
    compiler: Compiler | Literal["auto"] | None = "auto",
) -> BuiltArchive:
    """Build `<cache>/lambda-<arch>.zip`. `installer=None` packages the code alone (tests).

    `compiler="auto"` compiles with an interpreter of the runtime's version if the build
    machine has one (`find_compiler`); None ships sources only.
    """
    package_dir = project_root / PACKAGE_DIR
    cache = cache_dir if cache_dir is not None else project_root / ".pulumi-build"
    dependencies = None
    if installer is not None:
        dependencies = cached_dependencies(
            package_dir / REQUIREMENTS_FILE, architecture, cache, installer
        )
    suffix = "" if installer is not None else "-nodeps"
    destination = cache / f"lambda-{architecture}{suffix}.zip"
    entries = archive_entries(package_dir, dependencies)
    if compiler == "auto":
        compiler = find_compiler()
    if compiler is None:
        return write_zip(entries, destination)
    with tempfile.TemporaryDirectory(prefix="filetrail-pyc-") as workdir:
        built = write_zip(compiled_entries(entries, compiler, Path(workdir)), destination)
    return BuiltArchive(built.path, built.sha256_base64, bytecode_version=compiler.version)
