"""``python -m sim.cli``: the same as the ``caseflow`` command."""

import sys

from .main import entry

sys.exit(entry())
