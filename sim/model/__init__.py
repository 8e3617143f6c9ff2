"""The caseload model: the household's path through intake, routing, follow-up and exit (see
docs/architecture.md for the parts)."""
