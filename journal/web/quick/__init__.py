"""Quick capture: a few taps in the hour after a dosing session."""

from journal.web.quick.views import bp

__all__ = ["bp"]
