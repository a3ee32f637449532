"""Screenshots of the dashboard for the README, taken in Debian's Chromium.

Runs `filetrail demo --ui` (the demo's files on the local stack), opens the overview and
one file's page with the trace of its STORED event, and writes docs/img/*.png.
Run with `make screenshots` (needs the dev extra for playwright and /usr/bin/chromium).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
CHROMIUM = os.environ.get("FILETRAIL_CHROMIUM", "/usr/bin/chromium")
SERVING = "filetrail ui: serving "
FILE = "photos/twice.png"


def main() -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FILETRAIL_"))}
    command = [sys.executable, "-m", "filetrail", "demo", "--ui", "--port", "0"]
    with subprocess.Popen(  # noqa: S603 - our own command
        command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    ) as demo:
        try:
            assert demo.stdout is not None  # noqa: S101 - set by PIPE
            line = next((ln for ln in iter(demo.stdout.readline, "") if ln.startswith(SERVING)), "")
            if not line:
                print(f"the demo exited with {demo.wait()}", file=sys.stderr)
                return 1
            shoot(line.removeprefix(SERVING).split()[0])
        finally:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=30)
    return 0


def shoot(entry: str) -> None:
    """`entry`: the printed address, which lets this browser in (an access token)."""
    OUT.mkdir(parents=True, exist_ok=True)
    url = entry.split("?", maxsplit=1)[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 860}, device_scale_factor=1)
        page.goto(entry)
        page.screenshot(path=OUT / "overview.png", full_page=True)
        page.goto(f"{url}files")
        page.get_by_role("link", name=FILE, exact=True).click()
        page.wait_for_url("**/file/doc-*")
        page.locator("#events a", has_text="waterfall").last.click()
        page.locator("#trace table").wait_for()
        page.screenshot(path=OUT / "file.png", full_page=True)
        browser.close()
    for name in ("overview.png", "file.png"):
        print(OUT / name)


if __name__ == "__main__":
    sys.exit(main())
