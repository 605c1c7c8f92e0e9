"""The README's workbench screenshots, taken in headless Chromium against the real service on the seed corpus.

    .venv/bin/python bench/screenshots.py               # writes docs/screenshots/*.png
    .venv/bin/python bench/screenshots.py --out /tmp/x  # elsewhere

It indexes corpus/ with the real bundled embedder in a temp folder, starts `python -m service`
on a free loopback port (as tests/test_browser.py does), and saves one PNG per page: the
indicator table and charts (/indicators), the check-up scorecard (/checkups), two seed reports
side by side (/compare) and a report page's check-up panel; plus the bar chart of /indicators on its own. Each is kept under ~300 KB.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
SEEDS = ("000_dc284aa856a2efc0", "003_b47a481025290089")  # 粤海街道 (2024) and 坦洲镇 (2023)
LIMIT = 300 * 1024


def _serve(index: Path, port: int, log) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "service", "--index", str(index), "--host", "127.0.0.1",
                                "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the service exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit("the service did not answer /healthz within 90 s")
            time.sleep(0.3)


def _shoot(page, path: Path, clip_selector: str | None = None, height: int = 1000) -> None:
    """Save a PNG of the viewport (or of one element), shrinking the height until it is under LIMIT."""
    while True:
        if clip_selector:
            page.locator(clip_selector).screenshot(path=str(path))
        else:
            page.set_viewport_size({"width": 1280, "height": height})
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(path))
        if path.stat().st_size <= LIMIT or height <= 500 or clip_selector:
            break
        height -= 100
    print(f"   {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size / 1024:.0f} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from indexer.build import build_index
    from indexer.embed import load_embedder
    from tests.conftest import free_port

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    process = None
    try:
        build_index(ROOT / "corpus", work / "index", load_embedder(None, ROOT / ".cache" / "models"))
        port = free_port()
        log = (work / "server.log").open("w")
        process = _serve(work / "index", port, log)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, base_url=base)
            page.set_default_timeout(30_000)
            page.goto("/indicators")
            page.wait_for_selector("figure.indicator-chart svg")
            _shoot(page, args.out / "indicators.png", height=1000)
            _shoot(page, args.out / "indicators-chart.png",
                   clip_selector="figure.indicator-chart:not(.indicator-profile):not(.indicator-line)")
            page.goto("/checkups")
            page.wait_for_selector("table")
            _shoot(page, args.out / "checkups.png", height=800)
            page.goto("/compare?" + "&".join(f"doc={d}" for d in SEEDS))
            page.wait_for_load_state("networkidle")
            _shoot(page, args.out / "compare.png", height=1000)
            page.goto(f"/reports/{SEEDS[1]}")
            page.wait_for_selector("#checkup li.part")
            page.wait_for_function("!document.querySelector('#checkup').textContent.includes('正在体检')")
            page.locator("#checkup").scroll_into_view_if_needed()
            _shoot(page, args.out / "report-checkup.png", clip_selector="#checkup")
            browser.close()
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
