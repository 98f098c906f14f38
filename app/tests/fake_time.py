"""A clock for the startup grace: time moves only when the app sleeps."""

from __future__ import annotations


class FakeTime:
    """A clock that moves only when the app sleeps; records each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
