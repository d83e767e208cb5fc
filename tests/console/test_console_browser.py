"""The console in a real browser (Debian's chromium, driven by selenium through chromium-driver)
against a real service and a real `gateway console` process: list the quarantine, open a case,
fix the value map, retry it, and see the running service deliver it.

With CONSOLE_SCREENSHOTS set to a folder (docs/console for the README), the main pages are
saved there as PNG.
"""

from __future__ import annotations

import os
import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable
from tests.console.cases import FIXED, Scene, Spawn
from tests.waiting import wait_until

pytestmark = pytest.mark.service

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1400,1000")  # fmt: skip


@pytest.fixture(name="browser")
def _browser(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists() or not DRIVER.exists():
        unavailable("chromium and chromium-driver are not installed (tests/run.sh installs them)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(DRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


def screenshot(driver: Any, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path)), name
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        shutil.copyfile(path, Path(folder) / path.name)


def test_list_open_fix_retry_and_see_it_delivered(
    scene: Scene, service: Any, spawn: Spawn, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    service()
    port = free_port()
    console = spawn("console", "console", "--root", str(scene.root), "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: serving(f"{base}/quarantine"), what="the console to serve", seen=console.poll)

    browser.get(f"{base}/quarantine")
    listed = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.inbox td:first-child a")]
    assert sorted(listed) == ["despatch.edi", "north.csv", "orders.csv"]
    assert "service running" in browser.find_element(By.CSS_SELECTOR, "header .service").text
    screenshot(browser, tmp_path, "quarantine")
    browser.get(f"{base}/targets")
    sage = browser.find_element(By.XPATH, "//tr[td[1] = 'sage']").text
    assert "no warehouse mapping for 'DC9'" in sage
    screenshot(browser, tmp_path, "targets")

    browser.get(f"{base}/quarantine")

    browser.find_element(By.LINK_TEXT, "despatch.edi").click()
    marked = browser.find_element(By.CSS_SELECTOR, ".original tr.marked")
    assert marked.get_attribute("id") == "segment-17" and "not_numeric" in marked.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", marked)
    screenshot(browser, tmp_path, "case")

    browser.get(f"{base}/quarantine")
    browser.find_element(By.LINK_TEXT, "north.csv").click()
    assert "no warehouse mapping for 'DC9'" in browser.find_element(By.CSS_SELECTOR, "table.findings").text
    # The operator fixes the value map, then retries with a reason.
    scene.value_map.write_text(FIXED, encoding="utf-8")
    browser.find_element(By.NAME, "operator").send_keys("dana")
    browser.find_element(By.NAME, "reason").send_keys("DC2 and DC9 added to the value map")
    browser.find_element(By.ID, "retry").click()
    outcome = browser.find_element(By.CSS_SELECTOR, "table.results").text
    assert "retry handed to the running service" in outcome

    file_id = scene.cases["north.csv"].split("/")[0]

    def delivered() -> bool:
        browser.get(f"{base}/files/{file_id}")
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "table td")]
        return any(cells[i : i + 3] == ["sage", "#2", "published"] for i in range(len(cells)))

    wait_until(delivered, what="the service to publish the retried pair for sage",
               seen=lambda: browser.find_element(By.TAG_NAME, "main").text[:2000])  # fmt: skip
    assert "operator_retry" in browser.page_source and "dana (console)" in browser.page_source
    screenshot(browser, tmp_path, "file")

    browser.get(f"{base}/quarantine")
    listed = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.inbox td:first-child a")]
    assert sorted(listed) == ["despatch.edi", "orders.csv"]
    browser.get(f"{base}/partners")
    assert "5412345000013" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, tmp_path, "partners")
