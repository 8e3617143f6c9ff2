"""Calibration: targets from the seeds, specs, screening, point fit, posterior, fit report,
holdouts."""
