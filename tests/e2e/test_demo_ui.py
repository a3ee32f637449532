from __future__ import annotations

import re
import signal
import subprocess
import urllib.request

from tests.e2e.conftest import child_environment, filetrail_command

SERVING = "filetrail ui: serving "


def test_demo_ui_serves_the_dashboard_on_the_demo_files_until_interrupted():
    with subprocess.Popen(  # noqa: S603 - our own command
        filetrail_command("demo", "--ui", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=child_environment(),
    ) as process:
        try:
            assert process.stdout is not None
            # The demo ends with its own deadline, so the lines end too if it fails.
            lines = iter(process.stdout.readline, "")
            url = next((line for line in lines if line.startswith(SERVING)), "")
            assert url, f"the demo exited with {process.wait()} before serving the dashboard"
            port, token = re.fullmatch(
                r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", url.removeprefix(SERVING).split()[0]
            ).groups()
            browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            with browser.open(
                f"http://127.0.0.1:{port}/files?token={token}", timeout=10
            ) as response:
                html = response.read().decode()
            process.send_signal(signal.SIGINT)
            code = process.wait(timeout=30)
        finally:
            # A failed assertion must not leave the dashboard serving: Popen waits on exit.
            if process.poll() is None:
                process.kill()

    assert "photos/sunset.png" in html
    assert "notes/empty.txt" in html
    assert code == 0
