"""The dashboard in a real headless Chromium: live updates, the hostile key, the Content
Security Policy as a browser enforces it, and an action clicked as an operator would.

Debian's `chromium` package at /usr/bin/chromium (or FILETRAIL_CHROMIUM), driven by
playwright; playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from filetrail.ui.app import Settings
from filetrail.ui.serve import base_url, running, url_of
from tests.cli.conftest import processing  # noqa: F401 - fixture
from tests.ui.conftest import HOSTILE_KEY, ui_context

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'"
)
CHROMIUM = Path(
    os.environ.get("FILETRAIL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
# How long a page may take to show what the table now holds.
LIVE_TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
            "or set FILETRAIL_CHROMIUM to run the browser tests"
        )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


class Watched:
    """A page with what the browser reported on it: console errors (a CSP violation is
    one) and dialogs (an injected `alert` would be one)."""

    def __init__(self, page: sync_api.Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: sync_api.Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def watched(browser: sync_api.Browser) -> Iterator[Watched]:
    context = browser.new_context()
    yield Watched(context.new_page())
    context.close()


@pytest.fixture
def dashboard(stack, watched) -> Iterator[str]:
    """The dashboard's base address, the page already let in by the printed address."""
    with running(
        ui_context(stack), settings=Settings(poll_seconds=0.1, overview_poll_seconds=0.1)
    ) as server:
        watched.page.goto(url_of(server))
        yield base_url(server)


def _open_file(watched: Watched, dashboard: str, label: str) -> None:
    watched.page.goto(f"{dashboard}files")
    watched.page.get_by_role("link", name=label, exact=True).click()
    watched.page.wait_for_url("**/file/doc-*")


def test_overview_counts_a_new_file_without_reloading(stack, dashboard, watched):
    page = watched.page
    page.goto(dashboard)
    success = page.locator('[data-status="SUCCESS"]')
    sync_api.expect(success).to_have_text("0")
    page.evaluate("window.notReloaded = true")

    stack.upload("live.txt", b"hello")

    sync_api.expect(success).to_have_text("1", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.notReloaded") is True


def test_file_page_shows_new_events_without_reloading(stack, dashboard, watched):
    stack.upload("again.txt", b"hello")
    _open_file(watched, dashboard, "again.txt")
    page = watched.page
    rows = page.locator("#events tbody tr")
    sync_api.expect(rows).to_have_count(3)
    page.evaluate("window.notReloaded = true")

    stack.upload("again.txt", b"hello again")

    sync_api.expect(rows).to_have_count(6, timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.notReloaded") is True


def test_hostile_key_shows_as_text_and_runs_nothing(stack, dashboard, watched):
    stack.upload(HOSTILE_KEY, PNG, "image/png")
    page = watched.page

    _open_file(watched, dashboard, HOSTILE_KEY)

    sync_api.expect(page.locator("h1")).to_have_text(HOSTILE_KEY)
    assert page.locator("script").count() == 1  # live.js, nothing the key brought
    assert watched.dialogs == []


def test_pages_load_without_a_content_security_policy_violation(stack, dashboard, watched):
    stack.upload("a.txt", b"hello")
    page = watched.page

    page.goto(dashboard)
    page.goto(f"{dashboard}files")
    _open_file(watched, dashboard, "a.txt")

    assert page.locator("#events tbody tr").count() == 3
    assert watched.errors == []


def test_reprocess_clicked_in_the_page_shows_the_new_events(
    stack,
    dashboard,
    watched,
    processing,  # noqa: F811
):
    stack.upload("redo.txt", b"hello")
    _open_file(watched, dashboard, "redo.txt")
    page = watched.page

    page.get_by_role("button", name="Reprocess").click()

    sync_api.expect(page.locator("#result")).to_contain_text("Submitted for reprocessing")
    sync_api.expect(page.locator("#events tr.reprocessed")).to_have_count(
        3, timeout=LIVE_TIMEOUT_MS
    )
