"""Scenario and parameter files: schema, validation with clear messages, loading, reference."""
