"""Driving Debian's headless Chromium with the network off, for map tests.

The browser runs with an unreachable proxy, every host name unresolvable and
the DevTools network emulation set offline, so a page that reaches for the
internet fails to load it — and the failed request shows in the log.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # selenium is imported where a browser is started, so that
    from selenium import webdriver  # `-m "not browser"` runs without it

WINDOW = (1400, 1000)


def start_browser() -> webdriver.Chrome:
    """Headless Chromium with no network; fails with what to install if missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        raise RuntimeError(
            "browser tests need Debian's chromium and chromium-driver (tests/run.sh installs them)"
        )
    options = Options()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    return browser


@dataclass
class PageLoad:
    """What happened while a page loaded.

    Attributes
    ----------
    requests : list of str
        URLs requested other than the page itself and ``data:`` URIs.
    failed : list of str
        Requests that failed (with the error text).
    console_errors : list of str
    seconds : float
        From navigation start to the end of the load event (the inline
        scripts, which build the map, have run by then).
    """

    requests: list[str]
    failed: list[str]
    console_errors: list[str]
    seconds: float


def open_page(browser: webdriver.Chrome, page: Path) -> PageLoad:
    """Open a local HTML file and collect its requests, failures and console errors."""
    browser.get_log("performance")
    browser.get_log("browser")
    url = page.resolve().as_uri()
    browser.get(url)
    seconds = browser.execute_script(
        "const t = performance.getEntriesByType('navigation')[0];"
        "return (t.loadEventEnd - t.startTime) / 1000;"
    )
    requests, failed = [], []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            target = params["request"]["url"]
            if target != url and not target.startswith("data:"):
                requests.append(target)
        elif message["method"] == "Network.loadingFailed":
            failed.append(f"{params.get('errorText')} ({params.get('requestId')})")
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    return PageLoad(requests, failed, errors, seconds)


def map_variable(browser: webdriver.Chrome) -> str:
    """Name of the folium map's global variable."""
    return browser.execute_script(
        "return Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)"
    )


def overlays(browser: webdriver.Chrome) -> dict[str, int]:
    """Layer-control overlay names and how many features each holds on the map."""
    return browser.execute_script(
        """
        const key = Object.keys(window).find(k => k.startsWith('layer_control_')
            && k.endsWith('_layers') && window[k].overlays);
        const out = {};
        for (const [name, layer] of Object.entries(window[key].overlays)) {
            out[name] = layer.getLayers ? layer.getLayers().length : 0;
        }
        return out;
        """
    )


def control_labels(browser: webdriver.Chrome) -> list[str]:
    """The overlay labels the layer control shows."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label')).map(l => l.textContent.trim());"
    )


def click_at(browser: webdriver.Chrome, lat: float, lon: float, zoom: int) -> str:
    """Centre the map on a point, click there with the mouse, return the popup's text."""
    name = map_variable(browser)
    browser.execute_script(
        f"window[arguments[0]].setView([{lat}, {lon}], {zoom}, {{animate: false}});", name
    )
    time.sleep(0.3)
    x, y = browser.execute_script(
        f"const m = window[arguments[0]]; const p = m.latLngToContainerPoint([{lat}, {lon}]);"
        "const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top];",
        name,
    )
    body = browser.find_element("tag name", "body")
    width, height = body.rect["width"], body.rect["height"]
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element_with_offset(
        body, int(x - width / 2), int(y - height / 2)
    ).click().perform()
    time.sleep(0.3)
    popups = browser.find_elements("css selector", ".leaflet-popup-content")
    return popups[0].text if popups else ""


def finding_entries(browser: webdriver.Chrome) -> list[str]:
    """Open the findings panel; the ``data-conflict-id`` of its entries once built (up to 5 s)."""
    browser.execute_script("document.querySelector('.geoplan-findings').open = true;")
    entries = []
    for _ in range(50):  # the list is built when the panel is first opened
        entries = browser.execute_script(
            "return [...document.querySelectorAll('.geoplan-findings [data-conflict-id]')]"
            ".map(e => e.dataset.conflictId)"
        )
        if entries:
            break
        time.sleep(0.1)
    return entries
