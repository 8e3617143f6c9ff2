"""Output: results folders (atomic, with one manifest builder), figures and the HTML report."""
