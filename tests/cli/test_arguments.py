"""What the parser offers and accepts: --version, --json anywhere, case-blind --status,
only the options a command uses, and help that explains exit codes."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from filetrail.cli import main


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_version_prints_the_installed_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == f"filetrail {version('filetrail')}\n"


def test_json_before_the_command_is_honoured(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("--json", "status", stack.uri("a.txt"))

    assert result.code == 0, result.err
    assert result.json()["key"] == "a.txt"


def test_json_after_the_command_is_honoured(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("status", stack.uri("a.txt"), "--json")

    assert result.json()["key"] == "a.txt"


def test_status_filter_accepts_any_case(stack, cli):
    stack.upload("empty.txt", b"")

    result = cli("list", "--status", "failed", "--json")

    assert result.code == 0, result.err
    assert [i["key"] for i in result.json()["items"]] == ["empty.txt"]


@pytest.mark.parametrize("command", ["history", "status", "trace", "verify", "list"])
def test_reading_commands_do_not_offer_function_or_queue_url(capsys, command):
    shown = _help(capsys, command)

    assert "--function" not in shown
    assert "--queue-url" not in shown


def test_history_refuses_a_function_option(stack, cli):
    result = cli("history", "a.txt", "--function", "f")

    assert result.code == 2
    assert "unrecognized arguments: --function" in result.err


def test_reprocess_offers_function_and_queue_url(capsys):
    shown = _help(capsys, "reprocess")

    assert "--function" in shown
    assert "--queue-url" in shown


def test_verify_help_explains_exit_code_3(capsys):
    shown = " ".join(_help(capsys, "verify").split())

    assert "3 when any drifted" in shown


def test_history_names_the_upload_identity_in_words(stack, cli):
    stack.upload("a.txt", b"hello")

    result = cli("history", stack.uri("a.txt"))

    assert result.code == 0, result.err
    assert "version " in result.out
    assert "sequencer " in result.out
    for code in ("v:", "s:", "e:"):
        assert code not in result.out


def test_scan_delay_without_malware_scan_is_a_usage_error(capsys):
    code = main(["local", "--scan-delay", "2"])

    assert code == 2
    assert "--scan-delay needs --malware-scan" in capsys.readouterr().err


def test_a_negative_scan_delay_is_a_usage_error(capsys):
    code = main(["local", "--malware-scan", "--scan-delay", "-1"])

    assert code == 2
    assert "--scan-delay" in capsys.readouterr().err


def test_local_help_offers_malware_scanning(capsys):
    text = _help(capsys, "local")

    assert "--malware-scan" in text
    assert "--scan-delay SECONDS" in text
