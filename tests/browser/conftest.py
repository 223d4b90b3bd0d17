"""A real `ogmem serve` app (uvicorn in a thread, on a free port, SQLite file store) and a
headless Chromium driven by selenium.

Without Chromium and its driver, the browser tests are skipped outside CI, with the way to
install them in the skip reason and in a line of the terminal summary; with CI set they fail:
in CI they must never silently not run."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.server.app import create_app
from tests.console.seed import Seeded, seed

INSTALL = "apt-get install chromium chromium-driver"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "run"


def _tools() -> tuple[str | None, str | None]:
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    return browser, shutil.which("chromedriver")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    not_run = [r for r in terminalreporter.stats.get("skipped", []) if INSTALL in str(r.longrepr)]
    if not_run:
        terminalreporter.write_line(
            f"browser tests NOT run ({len(not_run)}): Chromium or chromedriver is missing; "
            f"install them with `{INSTALL}` (Debian/Ubuntu) to run them",
            yellow=True,
        )


@dataclass
class Console:
    base: str
    engine: Engine
    key: str
    seeded: Seeded


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    store = tmp_path_factory.mktemp("console") / "memory.sqlite"
    with Engine.open(store, embedder=HashEmbedder(), worker=False) as engine:
        seeded = seed(engine, "acme")
        key = engine.keys.create("acme", name="console")[1]
        engine.start_worker()
        port = _free_port()
        config = uvicorn.Config(create_app(engine), port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        try:
            yield Console(f"http://127.0.0.1:{port}", engine, key, seeded)
        finally:
            server.should_exit = True
            thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver_path = _tools()
    if chromium is None or driver_path is None:
        missing = "Chromium" if chromium is None else "chromedriver"
        reason = f"{missing} not found: install it with `{INSTALL}` to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so the browser tests must run: {reason}")
        # outside CI a developer without Chromium still runs every other test; CI fails above
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1000,760"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.implicitly_wait(20)  # generous: CI machines are shared and slow at times
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> None:
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
