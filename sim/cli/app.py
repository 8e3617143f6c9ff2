"""``caseflow app [--port N]``: serve the planners' workbench (docs/app.md) on this machine.

Streamlit serves the page (``sim/app/page.py``) on 127.0.0.1 only, from its own package (no
asset from the internet) and with its usage statistics off. Streamlit is imported by the
server process, never by ``caseflow --help``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .common import positive_int, require_module

if TYPE_CHECKING:
    from .common import Subparsers

HOST = "127.0.0.1"


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "app", help="serve the planners' workbench: build, run and compare scenarios in a browser"
    )
    parser.add_argument("--port", type=positive_int, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        help="folder the app writes results folders to and lists earlier ones from "
        "(default: results)",
    )
    parser.add_argument(
        "--scenarios",
        type=Path,
        default=Path("scenarios"),
        help="folder of the scenario files a draft starts from (default: scenarios)",
    )
    parser.add_argument(
        "--workers", type=positive_int, help="worker processes kept warm (default: all cores)"
    )
    parser.set_defaults(handler=app_command)


def free_port() -> int:
    """A port on 127.0.0.1 no one listens on now (the system's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether a server listens on ``port`` (a closed connection's TIME_WAIT does not count:
    the server binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def server_command(page: Path, port: int) -> list[str]:
    """The Streamlit server's command line: local only, no telemetry, no file watching, no
    browser opened (the address is printed)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(page),
        "--server.address", HOST,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
    ]  # fmt: skip


def app_command(args: argparse.Namespace) -> int:
    """Start the server, print its address, serve until Ctrl-C."""
    from ..app import __file__ as app_package
    from ..inputs.validation import InputError

    require_module("streamlit", "app", "the workbench", "app")
    if not args.scenarios.is_dir():
        raise InputError.single(args.scenarios, "", "not a folder of scenario files (--scenarios)")
    port = args.port or free_port()
    if args.port and port_in_use(port):
        raise InputError.single("--port", str(port), "the port is in use; choose another")
    page = Path(app_package).parent / "page.py"
    env = {
        **os.environ,
        "CASEFLOW_APP_RESULTS": str(args.results.resolve()),
        "CASEFLOW_APP_SCENARIOS": str(args.scenarios.resolve()),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    if args.workers:
        env["CASEFLOW_APP_WORKERS"] = str(args.workers)
    print(f"caseflow app: http://{HOST}:{port}  (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(server_command(page, port), env=env)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=10)
        raise
