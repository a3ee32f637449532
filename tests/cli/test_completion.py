"""`filetrail completion bash|zsh`: the script, run in bash, completes what the parser
accepts (commands, each command's own options, --status values, dlq actions)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

BASH = shutil.which("bash")


@pytest.fixture
def bash_script(cli) -> str:
    result = cli("completion", "bash")
    assert result.code == 0, result.err
    return result.out


def _complete(script: str, line: str) -> list[str]:
    """What bash offers for `line` (the cursor at its end), through the script's function."""
    assert BASH is not None
    program = (
        script
        + 'COMP_WORDS=($LINE); [[ "$LINE" == *" " ]] && COMP_WORDS+=("")\n'
        + "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
        + "_filetrail_complete\n"
        + 'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    completed = subprocess.run(  # noqa: S603 - a fixed program
        [BASH, "--noprofile", "--norc", "-c", program],
        env={"LINE": line, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.split()


pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def test_completes_a_command_name(bash_script):
    assert _complete(bash_script, "filetrail hi") == ["history"]


def test_offers_only_the_options_of_the_command(bash_script):
    offered = _complete(bash_script, "filetrail history --")

    assert "--json" in offered
    assert "--csv" in offered
    assert "--function" not in offered


def test_completes_status_values(bash_script):
    assert _complete(bash_script, "filetrail list --status F") == ["FAILED"]


def test_completes_dlq_actions_and_their_options(bash_script):
    assert _complete(bash_script, "filetrail dlq ") == ["list", "redrive", "-h", "--help"]
    assert "--dlq-url" in _complete(bash_script, "filetrail dlq redrive --")


def test_completes_the_shell_names(bash_script):
    assert _complete(bash_script, "filetrail completion ") == ["bash", "zsh", "-h", "--help"]


def test_zsh_script_is_the_bash_function_through_bashcompinit(cli, bash_script):
    result = cli("completion", "zsh")

    assert result.code == 0, result.err
    assert result.out.startswith("#compdef filetrail\n")
    assert "bashcompinit" in result.out
    assert bash_script.split("\n", 1)[1] in result.out


ZSH = shutil.which("zsh")


def _zsh(script: str, program: str, home: Path) -> str:
    assert ZSH is not None
    completed = subprocess.run(  # noqa: S603 - a fixed program
        [ZSH, "-f", "-c", script + program],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
def test_zsh_registers_the_completion_for_filetrail(cli, tmp_path):
    script = cli("completion", "zsh").out

    assert _zsh(script, 'print -- "$_comps[filetrail]"\n', tmp_path).strip() == (
        "_bash_complete -F _filetrail_complete"
    )


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed")
def test_zsh_offers_the_command_options(cli, tmp_path):
    """zsh's compgen emulation offers every candidate; zsh itself then matches the prefix."""
    script = cli("completion", "zsh").out
    program = (
        "setopt ksharrays\n"
        "COMP_WORDS=(filetrail history --); COMP_CWORD=2\n"
        "_filetrail_complete\n"
        'print -l -- "${COMPREPLY[@]}"\n'
    )

    offered = _zsh(script, program, tmp_path).split()

    assert "--csv" in offered
    assert "--function" not in offered
