"""`filetrail completion bash|zsh`: a completion script written from the parser itself, so
it offers exactly the commands, options and choices `filetrail --help` shows.

zsh runs the same function through its bash compatibility layer (`bashcompinit`).
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

SHELLS = ("bash", "zsh")
FUNCTION = "_filetrail_complete"


# argparse has no public way to walk a parser; its private `_actions` and
# `_SubParsersAction` have been stable since Python 3.2.
def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _paths(
    parser: argparse.ArgumentParser, path: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command path (`""`, `list`, `dlq redrive`) with its parser."""
    yield path, parser
    for name, child in _subcommands(parser).items():
        yield from _paths(child, f"{path} {name}".strip())


def _words(parser: argparse.ArgumentParser) -> list[str]:
    """Subcommands, the choices of positional arguments, then options."""
    actions = parser._actions
    positional = [
        str(choice)
        for action in actions
        if not action.option_strings
        and action.choices
        and not isinstance(action, argparse._SubParsersAction)
        for choice in action.choices
    ]
    options = [o for action in actions for o in action.option_strings]
    return [*_subcommands(parser), *positional, *options]


def _choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _, command in _paths(parser):
        for action in command._actions:
            if action.option_strings and action.choices and action.nargs != 0:
                for option in action.option_strings:
                    found.setdefault(option, [str(c) for c in action.choices])
    return found


def bash_function(parser: argparse.ArgumentParser, prog: str) -> str:
    paths = list(_paths(parser))
    commands = " ".join(f'"{path}"' for path, _ in paths if path)
    words = "\n".join(
        f'        "{path}") words={shlex.quote(" ".join(_words(command)))} ;;'
        for path, command in paths
    )
    values = "\n".join(
        f"        {option}) COMPREPLY=($(compgen -W {shlex.quote(' '.join(choices))} "
        '-- "$cur")); return ;;'
        for option, choices in _choices(parser).items()
    )
    return f"""{FUNCTION}() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    local path="" candidate known word words i
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        candidate="${{path:+$path }}$word"
        for known in {commands}; do
            [[ "$candidate" == "$known" ]] && path="$candidate"
        done
    done
    case "$prev" in
{values}
    esac
    case "$path" in
{words}
        *) words="" ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -F {FUNCTION} {prog}
"""


def script(shell: str, parser: argparse.ArgumentParser, prog: str) -> str:
    function = bash_function(parser, prog)
    if shell == "zsh":
        return (
            f"#compdef {prog}\n"
            "# zsh: the bash completion below, through zsh's bash compatibility.\n"
            "autoload -U +X compinit && compinit\n"
            "autoload -U +X bashcompinit && bashcompinit\n" + function
        )
    return f'# bash completion for {prog}: eval "$({prog} completion bash)"\n' + function
