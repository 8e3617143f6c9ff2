"""The command line, ``caseflow COMMAND``: one module per command (``run``, ``compare``,
``calibrate/`` with ``check``, ``screen`` and ``fit``, ``validate``, ``validate_model``,
``schema``, ``report``, ``compile``), ``common`` for what they share; :mod:`sim.cli.main` builds
the parser from them and dispatches."""
