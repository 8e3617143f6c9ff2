"""Time the workbench as a planner feels it: from pressing Run in the browser to the result on
the page, beside the bare-SimPy reference of bench_commands.py timed in the same run.

Run:  .venv/bin/python benchmarks/bench_app.py [--rounds N] [--screenshot PNG] [--command]

Starts ``caseflow app`` (2 workers, a results folder in a temporary directory), opens it in
Debian's Chromium (/usr/bin/chromium) with Playwright, and per round: sets a new seed (so that
nothing is reused from an earlier round), presses Run on the baseline unchanged (20
replications x 5 years, after its warm-up year) and waits for the headline table; then the
same with three fewer ongoing social workers (a comparison: the base and the alternative,
40 replications, both new). The time "to the result" ends when the results table is on the
page; "folder written" when the results folder is complete on disk (the folder, its figures
and report.html are written after the result is shown). Each round alternates with
the reference process (a bare SimPy M/M/10 queue of 200 000 customers) and, with
``--command``, ``caseflow run scenarios/baseline.toml`` as a process (the same run from the
command line, in the same round). Prints medians and
ratios to the reference's median; quote ratios (the machine drifts between hours).
A script, not a test: the figures go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_commands import REFERENCE  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def reference_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", REFERENCE], check=True)
    return time.perf_counter() - start


def command_seconds(out: Path) -> float:
    """``caseflow run scenarios/baseline.toml`` as its own process (what ``make run`` does)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", "scenarios/baseline.toml", "--out", str(out)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - start


def serve(results: Path) -> tuple[subprocess.Popen[bytes], str]:
    from sim.cli.app import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", "--port", str(port), "--results", str(results),
         "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{address}/_stcore/health", timeout=2):
                return server, address
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the app did not start")


def settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)


def set_field(page, label: str, value: str) -> None:  # type: ignore[no-untyped-def]
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    settle(page)


def finished_folders(results: Path) -> int:
    """Complete results folders (manifest.json is written last, then the folder renamed)."""
    return len(list(results.glob("*/manifest.json")))


def press_run(page, seed: int, results: Path) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """Seconds from pressing Run to this run's results table (its caption names the seed, so
    an earlier run's table still on the page does not count), and to its results folder
    complete on disk. Waits run in the page (Playwright's wait_for, not the backing-off
    retries of expect), so the figures are not rounded up to a polling step."""
    build = page.get_by_role("tabpanel", name="Build and run")
    before = finished_folders(results)
    start = time.perf_counter()
    page.get_by_role("button", name="Run", exact=True).click()
    caption = build.get_by_text(f"seed {seed}; ran in")
    caption.wait_for(state="visible", timeout=300_000)
    table = build.locator(".st-key-headline [data-testid='stTable']")
    table.wait_for(state="visible", timeout=300_000)
    shown = time.perf_counter() - start
    ran = float(caption.inner_text().split("ran in ")[1].split(" s")[0])
    while finished_folders(results) == before:
        if time.perf_counter() - start > 300:
            raise SystemExit("no results folder written")
        time.sleep(0.02)
    written = time.perf_counter() - start
    settle(page)
    return shown, written, ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--screenshot", type=Path, help="save the comparison's result page here")
    parser.add_argument(
        "--command",
        action="store_true",
        help="also time `caseflow run scenarios/baseline.toml` as a process in every round",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from sim import compiled

    print(f"model build: {compiled.implementation()}")
    reference: list[float] = []
    command: list[float] = []
    single: list[tuple[float, float, float]] = []
    paired: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "app"
        server, address = serve(results)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1500})
                page.goto(address)
                page.get_by_role("button", name="Run", exact=True).wait_for(timeout=120_000)
                settle(page)
                for i in range(args.rounds):
                    reference.append(reference_seconds())
                    if args.command:
                        command.append(command_seconds(Path(tmp) / f"cli-{i}"))
                    set_field(page, "Seed", str(5000 + i))
                    set_field(page, "Ongoing social workers: posts", "11")
                    single.append(press_run(page, 5000 + i, results))
                    reference.append(reference_seconds())
                    set_field(page, "Seed", str(7000 + i))
                    set_field(page, "Ongoing social workers: posts", "8")
                    paired.append(press_run(page, 7000 + i, results))
                    print(
                        f"round {i + 1}: reference {reference[-2]:.2f} and {reference[-1]:.2f} s; "
                        + (f"caseflow run {command[-1]:.2f} s; " if command else "")
                        + f"baseline {single[-1][0]:.2f} s (replications {single[-1][2]:.1f} s, "
                        f"folder {single[-1][1]:.2f} s); comparison {paired[-1][0]:.2f} s "
                        f"(replications {paired[-1][2]:.1f} s, folder {paired[-1][1]:.2f} s)",
                        flush=True,
                    )
                if args.screenshot:
                    heading = page.get_by_role("heading", name="Results: baseline-edited")
                    heading.evaluate("e => e.scrollIntoView({block: 'start'})")
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(args.screenshot))
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    ref = statistics.median(reference)
    print(f"\nreference (bare SimPy, own process): median {ref:.2f} s over {len(reference)}")
    if command:
        median = statistics.median(command)
        print(f"caseflow run baseline (a process): median {median:.2f} s ({median / ref:.2f}x)")
    for what, times in (("baseline 20 x 5 years", single), ("comparison, 2 x 20 x 5", paired)):
        shown = statistics.median(t[0] for t in times)
        written = statistics.median(t[1] for t in times)
        ran = statistics.median(t[2] for t in times)
        print(
            f"{what}: to the result {shown:.2f} s ({shown / ref:.2f}x reference; the "
            f"replications on the warm pool {ran:.1f} s), folder written {written:.2f} s "
            f"({written / ref:.2f}x)"
        )


if __name__ == "__main__":
    main()
