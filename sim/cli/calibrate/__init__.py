"""``caseflow calibrate check|screen|fit``: reported figures, sensitivity, and the fit.

The forms from before the subcommands stay as aliases (:func:`legacy_argv`):
``calibrate --check FILES``, ``calibrate --screen SPEC`` and ``calibrate SPEC`` (a fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import check, fit, screen

if TYPE_CHECKING:
    from ..common import Subparsers

SUBCOMMANDS = ("check", "screen", "fit")
LEGACY_FLAGS = {"--check": "check", "--screen": "screen"}
"""The old flags that chose the command; ``--screen`` won over ``--check``, as it did then."""


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="calibrate the model: check targets, screen a spec, fit it",
        description="Calibration against reported figures: 'check' the targets files, "
        "'screen' a spec's parameters for what moves which target, 'fit' the spec (point fit, "
        "posterior and fit report).",
        epilog="The older forms still work: 'calibrate --check FILES', "
        "'calibrate --screen SPEC' and 'calibrate SPEC' (a fit).",
    )
    commands = parser.add_subparsers(
        dest="calibrate_command", required=True, metavar="{check,screen,fit}"
    )
    check.add_parser(commands)
    screen.add_parser(commands)
    fit.add_parser(commands)


def legacy_argv(argv: Sequence[str]) -> list[str]:
    """The command line with an old ``calibrate`` form rewritten to the subcommand it meant.

    ``calibrate --check FILES`` -> ``calibrate check FILES``; ``calibrate --screen SPEC ...`` ->
    ``calibrate screen SPEC ...`` (the flag may stand anywhere after ``calibrate``, as before);
    ``calibrate SPEC ...`` -> ``calibrate fit SPEC ...``. Every other command line, the new
    forms included, is returned as it is.
    """
    argv = list(argv)
    if not argv or argv[0] != "calibrate":
        return argv
    rest = argv[1:]
    if not rest or rest[0] in SUBCOMMANDS or rest[0] in ("-h", "--help"):
        return argv
    chosen = {LEGACY_FLAGS[a] for a in rest if a in LEGACY_FLAGS}
    command = "screen" if "screen" in chosen else "check" if chosen else "fit"
    return ["calibrate", command, *(a for a in rest if a not in LEGACY_FLAGS)]
