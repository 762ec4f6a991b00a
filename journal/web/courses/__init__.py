"""Courses: the timeline, opening a course, scheduling dosing sessions."""

from journal.web.courses.views import bp

__all__ = ["bp"]
