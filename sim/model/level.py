"""A stock whose time integral is kept, so that monthly figures need no events of their own."""

from __future__ import annotations


class Level:
    """A stock whose time integral is kept: ``area`` over a month gives stock-days."""

    __slots__ = ("area", "t", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.t = 0.0
        self.area = 0.0

    def add(self, now: float, delta: float) -> None:
        self.area += self.value * (now - self.t)
        self.t = now
        self.value += delta

    def take(self, now: float) -> float:
        """The area since the last ``take`` (and start again)."""
        self.area += self.value * (now - self.t)
        self.t = now
        area, self.area = self.area, 0.0
        return area
