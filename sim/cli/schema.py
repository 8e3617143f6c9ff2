"""``caseflow schema [--markdown]``: the JSON Schema of scenario files, or the key reference."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .common import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("schema", help="print the JSON Schema of scenario files")
    parser.add_argument(
        "--markdown", action="store_true", help="print the key reference as Markdown instead"
    )
    parser.set_defaults(handler=schema_command)


def schema_command(args: argparse.Namespace) -> int:
    """Print to stdout; ``--markdown`` is the table embedded in docs/scenarios.md."""
    if args.markdown:
        from ..inputs.reference import scenario_reference_markdown

        print(scenario_reference_markdown())
    else:
        from ..inputs.reference import scenario_json_schema

        print(json.dumps(scenario_json_schema(), indent=2))
    return 0
