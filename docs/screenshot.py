"""Make docs/demo-map.png: the demo's map.html as headless Chromium draws it.

    .venv/bin/python docs/screenshot.py

Runs ``geoplan demo`` into a temporary folder, opens its ``map.html`` with the
network off (tests/browser.py) and saves the picture the README shows.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

from geoplan.analysis.cli import cli

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from browser import open_page, start_browser  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        result = CliRunner().invoke(cli, ["-q", "demo", "--out", folder])
        if result.exit_code != 0:
            raise SystemExit(result.output)
        browser = start_browser()
        try:
            load = open_page(browser, Path(folder) / "map.html")
            if load.requests or load.failed or load.console_errors:
                raise SystemExit(f"the map did not load cleanly: {load}")
            browser.save_screenshot(str(HERE / "demo-map.png"))
        finally:
            browser.quit()
    print(HERE / "demo-map.png")


if __name__ == "__main__":
    main()
