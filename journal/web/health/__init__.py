"""Readiness check for load balancers and monitoring."""

from journal.web.health.views import bp

__all__ = ["bp"]
