"""The command line: ``caseflow COMMAND``; :mod:`sim.cli.main` builds the parser, dispatches."""
