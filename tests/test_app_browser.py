"""The workbench in a real browser: ``caseflow app`` serving, Debian's Chromium driven by
Playwright (its own browser downloads are never used: the system's /usr/bin/chromium is
launched). Open the page, see a field error, change a staff count, run, see the result and
the comparison, download the scenario and the workbook and check them, stop a long run; a
screenshot of the result page is taken (kept where CASEFLOW_KEEP_SCREENSHOT says; the one in
docs/images/app_result.png is of a full-size run, from benchmarks/bench_app.py --screenshot).

Skipped only where /usr/bin/chromium is missing (the Makefile installs it with apt).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sim.cli.app import free_port

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
POSTS = "Ongoing social workers: posts"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (install Debian's chromium package)"
)

#: Chromium's flags on a machine with no network but loopback (no background connections)
BROWSER_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def serve(results: Path, workers: int = 2) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``caseflow app`` on a free port; its address once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", "--port", str(port), "--results", str(results),
         "--workers", str(workers)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{address}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return server, address
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise AssertionError(f"the app did not answer at {address}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    results = tmp_path_factory.mktemp("results")
    server, address = serve(results)
    try:
        yield address, results
    finally:
        stop(server)


def set_field(page, label: str, value: str) -> None:
    """Type into a text field and commit it (Enter), then wait for the page to settle."""
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    settle(page)


def settle(page) -> None:
    """Wait until Streamlit has rerun the script (its status widget gone)."""
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=60_000)


def test_the_page_in_a_browser(app, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    address, results = app
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(address)
            run = page.get_by_role("button", name="Run", exact=True)
            expect(run).to_be_enabled(timeout=60_000)

            # a field error: the loader's message next to the field, the run button off
            set_field(page, POSTS, "abc")
            expect(page.get_by_text('Input should be a valid integer (got "abc")')).to_be_visible()
            expect(run).to_be_disabled()

            # a staff count changed, a short run, the result and the comparison
            set_field(page, POSTS, "8")
            set_field(page, "Replications", "3")
            set_field(page, "Years simulated (after the warm-up)", "0.5")
            expect(run).to_be_enabled()
            run.click()
            expect(page.get_by_text("Against the base: baseline")).to_be_visible(timeout=120_000)
            build = page.get_by_role("tabpanel", name="Build and run")
            expect(build.get_by_text("Results folder:")).to_be_visible(timeout=120_000)
            settle(page)
            page.set_viewport_size({"width": 1400, "height": 1500})
            heading = page.get_by_role("heading", name="Results: baseline-edited")
            heading.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
            page.screenshot(path=str(tmp_path / "app_result.png"))

            # the scenario as TOML: the draft's settings
            with page.expect_download() as toml_download:
                page.get_by_role("button", name="Download the scenario (TOML)").click()
            text = Path(toml_download.value.path()).read_text(encoding="utf-8")
            assert 'name = "baseline-edited"' in text and "posts = 8" in text

            # the workbook: its sheets and the numbers of the folder's CSV files
            with page.expect_download() as book_download:
                build.get_by_role("button", name="Excel workbook").click()
            data = Path(book_download.value.path()).read_bytes()
            book = pd.read_excel(io.BytesIO(data), sheet_name=None)
            assert list(book) == ["summary", "monthly", "differences", "scenario"]
            folders = [p for p in results.iterdir() if p.name.startswith("compare-baseline")]
            assert len(folders) == 1
            pd.testing.assert_frame_equal(
                book["differences"], pd.read_csv(folders[0] / "comparison.csv"), check_dtype=False
            )

            # a long run stopped from the page: no result of it, no folder, the page still up
            set_field(page, "Seed", "99")
            set_field(page, "Replications", "60")
            set_field(page, "Years simulated (after the warm-up)", "5")
            run.click()
            expect(build.get_by_text("of 120 replications")).to_be_visible(timeout=60_000)
            build.get_by_role("button", name="Stop").click()
            settle(page)
            expect(run).to_be_enabled()
            expect(build.get_by_text("seed 99; ran in")).to_have_count(0)
            assert len([p for p in results.iterdir() if not p.name.startswith(".")]) == 1
        finally:
            browser.close()
    if os.environ.get("CASEFLOW_KEEP_SCREENSHOT"):
        target = Path(os.environ["CASEFLOW_KEEP_SCREENSHOT"])
        target.write_bytes((tmp_path / "app_result.png").read_bytes())
