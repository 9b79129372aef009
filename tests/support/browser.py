"""Headless Chromium driven by Selenium, for tests of the HTML report.

Selenium with Debian's chromium-driver: both come from the same Debian chromium build, so the driver always
speaks the browser's protocol version, and nothing is downloaded at test time (Playwright would want its own
browser build from a CDN). Tests skip cleanly only where no Chromium + chromedriver can be found.
"""

from __future__ import annotations

import shutil

import pytest


def chromium_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def start_browser():
    paths = chromium_paths()
    if paths is None:
        pytest.skip("no Chromium + chromedriver (apt-get install chromium chromium-driver; scripts/test.sh does "
                    "it when run as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,1400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
