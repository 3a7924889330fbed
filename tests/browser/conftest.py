"""Shared Playwright fixtures: Debian's chromium against Django's live server, in Dutch.

Reuse from any browser test module:
- `browser` (session): chromium from /usr/bin/chromium; the test is skipped with a reason when it is missing.
- `page`: a fresh context (locale nl-NL, laptop viewport, `base_url` = the live server), so `page.goto("/...")`.
  Console errors (a CSP violation shows up as one) are collected in `page.console_errors`.
- `new_page()`: another independent context (e.g. a partner who is not logged in).
- `login(page, username, password)`: logs in through the real login form.
- `screenshot(page, name)`: saves a full-page PNG into test-artifacts/screenshots/, or into docs/screenshots/
  when KOPPELPUNT_SCREENSHOTS=1 (to refresh the README's images).
The live server needs `transactional_db`, which the `page` fixture pulls in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM refuses to run next to one unless told.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Callable[[], Any]]:
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(locale="nl-NL", base_url=live_server.url, viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        # The site has no favicon; keep the browser's automatic request out of the console errors.
        context.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def login(page: Any, username: str, password: str) -> None:
    page.goto("/inloggen/")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()
    assert "/inloggen/" not in page.url, f"login as {username} failed"


def screenshot(page: Any, name: str) -> Path:
    target = ROOT / "docs" / "screenshots" if os.environ.get("KOPPELPUNT_SCREENSHOTS") == "1" else (
        ROOT / "test-artifacts" / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
