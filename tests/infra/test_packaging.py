import marshal
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.config import Architecture
from infra.packaging import (
    FILE_MODE,
    FIXED_DATE_TIME,
    LAMBDA_PYTHON_VERSION,
    LAMBDA_TASK_ROOT,
    RUNTIME_PROVIDED,
    BuiltArchive,
    Compiler,
    build_archive,
    cached_dependencies,
    find_compiler,
)
from tests.infra.harness import REPO_ROOT

RUNTIME_DEPENDENCIES = ("filetype",)
RUNNING_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
# The running interpreter stands in for the runtime's: what is tested is the mechanism.
RUNNING_COMPILER = Compiler(sys.executable, RUNNING_VERSION)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's handler package, with files that must never ship."""
    root = tmp_path / "project"
    shutil.copytree(
        REPO_ROOT / "handlers", root / "handlers", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "handlers" / "__pycache__").mkdir()
    (root / "handlers" / "__pycache__" / "app.cpython-313.pyc").write_bytes(b"\0")
    (root / "handlers" / "tests").mkdir()
    (root / "handlers" / "tests" / "test_app.py").write_text("assert True\n")
    (root / "handlers" / "test_inline.py").write_text("assert True\n")
    return root


def _code_only(project: Path, cache: Path) -> BuiltArchive:
    return build_archive(project, "arm64", cache_dir=cache, installer=None, compiler=None)


def _compiled(project: Path, cache: Path) -> BuiltArchive:
    return build_archive(
        project, "arm64", cache_dir=cache, installer=None, compiler=RUNNING_COMPILER
    )


def _names(archive: BuiltArchive) -> list[str]:
    with zipfile.ZipFile(archive.path) as z:
        return z.namelist()


def test_archive_holds_the_handler_package(project: Path, tmp_path: Path) -> None:
    names = _names(_code_only(project, tmp_path / "cache"))
    assert "handlers/app.py" in names
    assert "handlers/schema.py" in names
    assert "handlers/requirements.txt" in names


def test_archive_never_holds_tests_or_bytecode(project: Path, tmp_path: Path) -> None:
    names = _names(_code_only(project, tmp_path / "cache"))
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if "/tests/" in n or Path(n).name.startswith("test_")]


def test_archive_entries_are_sorted_with_fixed_time_and_mode(project: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(_code_only(project, tmp_path / "cache").path) as z:
        infos = z.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {FIXED_DATE_TIME}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {FILE_MODE}


def test_same_inputs_give_the_same_hash(project: Path, tmp_path: Path) -> None:
    first = _code_only(project, tmp_path / "one")
    (project / "handlers" / "app.py").touch()  # a new mtime alone changes nothing
    second = _code_only(project, tmp_path / "two")
    assert first.sha256_base64 == second.sha256_base64


def test_changed_source_changes_the_hash(project: Path, tmp_path: Path) -> None:
    before = _code_only(project, tmp_path / "cache")
    with (project / "handlers" / "schema.py").open("a") as f:
        f.write("\n# changed\n")
    assert _code_only(project, tmp_path / "cache").sha256_base64 != before.sha256_base64


def test_no_interpreter_of_the_runtime_version_means_sources_only() -> None:
    assert find_compiler("3.1", candidates=[sys.executable, None]) is None


def test_the_running_interpreter_compiles_for_its_own_version() -> None:
    assert find_compiler(RUNNING_VERSION) == RUNNING_COMPILER


def test_sources_only_archive_says_so(project: Path, tmp_path: Path) -> None:
    archive = _code_only(project, tmp_path / "cache")
    assert archive.bytecode_version is None
    assert not [n for n in _names(archive) if n.endswith(".pyc")]


def test_compiled_archive_holds_a_pyc_for_every_module(project: Path, tmp_path: Path) -> None:
    archive = _compiled(project, tmp_path / "cache")
    names = set(_names(archive))
    tag = sys.implementation.cache_tag
    modules = [n for n in names if n.endswith(".py")]
    missing = [
        n
        for n in modules
        if f"{n.rsplit('/', 1)[0]}/__pycache__/{Path(n).stem}.{tag}.pyc" not in names
    ]
    assert "handlers/app.py" in modules
    assert not missing
    assert archive.bytecode_version == RUNNING_VERSION


def test_compiled_archive_never_holds_the_working_trees_bytecode(
    project: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(_compiled(project, tmp_path / "cache").path) as z:
        stale = [n for n in z.namelist() if n.endswith(".cpython-313.pyc") and z.read(n) == b"\0"]
    assert not stale


def _pyc(archive: BuiltArchive, module: str) -> bytes:
    with zipfile.ZipFile(archive.path) as z:
        return z.read(f"handlers/__pycache__/{module}.{sys.implementation.cache_tag}.pyc")


def test_compiled_files_are_unchecked_hash_pycs(project: Path, tmp_path: Path) -> None:
    """PEP 552: flags 0b01 is hash-based without source check, so no timestamp is stored."""
    pyc = _pyc(_compiled(project, tmp_path / "cache"), "app")
    assert int.from_bytes(pyc[4:8], "little") == 0b01


def test_compiled_files_name_their_sources_under_the_task_root(
    project: Path, tmp_path: Path
) -> None:
    code = marshal.loads(_pyc(_compiled(project, tmp_path / "cache"), "app")[16:])  # noqa: S302 - our own build
    assert code.co_filename == f"{LAMBDA_TASK_ROOT}/handlers/app.py"


def test_compiled_archive_is_byte_identical_across_builds(project: Path, tmp_path: Path) -> None:
    first = _compiled(project, tmp_path / "one")
    (project / "handlers" / "app.py").touch()
    second = _compiled(project, tmp_path / "two")
    assert first.path.read_bytes() == second.path.read_bytes()


def test_unpacked_archive_runs_its_compiled_files(project: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(_compiled(project, tmp_path / "cache").path) as z:
        z.extractall(tmp_path / "task")
    # Were the source read, this import would fail: an unchecked pyc is used as it is.
    (tmp_path / "task" / "handlers" / "schema.py").write_text("raise SystemExit(3)\n")
    result = subprocess.run(
        [sys.executable, "-c", "import handlers.schema as s; print(s.STATUS_INDEX)"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path / "task",
        env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path / "task")},
    )
    assert (result.returncode, result.stdout.strip()) == (0, "byStatus"), result.stderr


def test_dependencies_are_installed_once_per_requirements_and_architecture(
    project: Path, tmp_path: Path
) -> None:
    calls: list[Architecture] = []

    def installer(requirements: Path, architecture: Architecture, target: Path) -> None:
        calls.append(architecture)
        (target / "dep.py").write_text("X = 1\n")

    requirements = project / "handlers" / "requirements.txt"
    for architecture in ("arm64", "arm64", "x86_64"):
        cached_dependencies(requirements, architecture, tmp_path / "cache", installer)
    assert calls == ["arm64", "x86_64"]


def test_dependency_console_scripts_are_left_out(project: Path, tmp_path: Path) -> None:
    def installer(requirements: Path, architecture: Architecture, target: Path) -> None:
        (target / "dep.py").write_text("X = 1\n")
        (target / "bin").mkdir()
        (target / "bin" / "dep").write_text("#!/build/host/python\n")

    names = _names(
        build_archive(project, "arm64", cache_dir=tmp_path / "cache", installer=installer)
    )
    assert "dep.py" in names
    assert not [n for n in names if n.startswith("bin/")]


def test_changed_requirements_reinstall(project: Path, tmp_path: Path) -> None:
    calls: list[str] = []

    def installer(requirements: Path, architecture: Architecture, target: Path) -> None:
        calls.append(requirements.read_text())

    requirements = project / "handlers" / "requirements.txt"
    cached_dependencies(requirements, "arm64", tmp_path / "cache", installer)
    requirements.write_text(requirements.read_text() + "six==1.17.0\n")
    cached_dependencies(requirements, "arm64", tmp_path / "cache", installer)
    assert len(calls) == 2


def test_failed_install_is_not_cached(project: Path, tmp_path: Path) -> None:
    attempts: list[int] = []

    def installer(requirements: Path, architecture: Architecture, target: Path) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("network down")

    requirements = project / "handlers" / "requirements.txt"
    with pytest.raises(RuntimeError):
        cached_dependencies(requirements, "arm64", tmp_path / "cache", installer)
    cached_dependencies(requirements, "arm64", tmp_path / "cache", installer)
    assert len(attempts) == 2


@pytest.fixture(scope="module")
def lambda_archive() -> BuiltArchive:
    """The real arm64 archive, dependencies from pip (cached in .pulumi-build/)."""
    return build_archive(REPO_ROOT, "arm64")


def test_lambda_archive_holds_the_handler_and_its_runtime_dependencies_only(
    lambda_archive: BuiltArchive,
) -> None:
    top_level = {name.split("/", 1)[0] for name in _names(lambda_archive)}
    packages = {name for name in top_level if not name.endswith(".dist-info")}
    assert packages == {"handlers", *RUNTIME_DEPENDENCIES}


def test_lambda_archive_leaves_the_sdk_to_the_runtime(lambda_archive: BuiltArchive) -> None:
    # A bundled botocore would shadow the runtime's and no longer match its boto3.
    top_level = {name.split("/", 1)[0] for name in _names(lambda_archive)}
    assert not top_level & {"boto3", "botocore", "s3transfer", "urllib3"}


def _lambda_environment() -> dict[str, str]:
    env = default_environment()
    env.update(
        python_version=LAMBDA_PYTHON_VERSION,
        python_full_version=f"{LAMBDA_PYTHON_VERSION}.0",
        implementation_name="cpython",
        platform_python_implementation="CPython",
        sys_platform="linux",
        platform_system="Linux",
        platform_machine="aarch64",
        os_name="posix",
    )
    return env


def test_lambda_archive_dependencies_are_complete(lambda_archive: BuiltArchive) -> None:
    """pip runs with --no-deps, so requirements.txt must name every transitive dependency."""
    with zipfile.ZipFile(lambda_archive.path) as z:
        metadata = {
            name: z.read(name).decode()
            for name in z.namelist()
            if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
        }
    bundled = {
        canonicalize_name(line.split(":", 1)[1].strip())
        for text in metadata.values()
        for line in text.splitlines()
        if line.startswith("Name:")
    }
    environment = _lambda_environment()
    missing = set()
    for text in metadata.values():
        for line in text.splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            requirement = Requirement(line.split(":", 1)[1].strip())
            if requirement.marker and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
            name = canonicalize_name(requirement.name)
            if name not in bundled and name not in RUNTIME_PROVIDED:
                missing.add(name)
    assert bundled == {canonicalize_name(name) for name in RUNTIME_DEPENDENCIES}
    assert not missing


def test_lambda_archive_is_pure_python(lambda_archive: BuiltArchive) -> None:
    # A compiled extension ties the archive to one platform and Python version.
    assert not [n for n in _names(lambda_archive) if n.endswith((".so", ".pyd"))]


def test_lambda_archive_never_holds_the_venv(lambda_archive: BuiltArchive) -> None:
    names = _names(lambda_archive)
    assert not [n for n in names if ".venv" in n or "site-packages" in n or "/tests/" in n]


def test_lambda_archive_is_compiled_where_the_runtime_python_is_found(
    lambda_archive: BuiltArchive,
) -> None:
    compiler = find_compiler()
    tag = f"cpython-{LAMBDA_PYTHON_VERSION.replace('.', '')}"
    assert lambda_archive.bytecode_version == (compiler and compiler.version)
    compiled = f"handlers/__pycache__/app.{tag}.pyc" in _names(lambda_archive)
    assert compiled == (compiler is not None)


def test_lambda_archive_rebuild_is_identical(lambda_archive: BuiltArchive) -> None:
    assert build_archive(REPO_ROOT, "arm64").sha256_base64 == lambda_archive.sha256_base64


def test_handler_imports_from_the_unpacked_archive(
    lambda_archive: BuiltArchive, tmp_path: Path
) -> None:
    with zipfile.ZipFile(lambda_archive.path) as z:
        z.extractall(tmp_path / "task")
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import handlers.app, filetype;"
        "assert callable(handlers.app.handler);"
        "assert handlers.app.__file__.startswith(sys.argv[1]), handlers.app.__file__;"
        "assert filetype.__file__.startswith(sys.argv[1]), filetype.__file__;"
        "assert not {'aws_xray_sdk', 'wrapt'} & set(sys.modules), 'the handler imports the SDK'"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe, str(tmp_path / "task")],
        capture_output=True,
        text=True,
        check=False,
        env={
            "TABLE_NAME": "audit",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    assert result.returncode == 0, result.stderr
