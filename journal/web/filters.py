"""Template filters: local times, labels, Markdown."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import gettext
from markupsafe import Markup

from journal.core.labels import (
    PHASE_LABELS,
    SHORT_VISIBILITY,
    STATUS_LABELS,
    VISIBILITY_LABELS,
)
from journal.core.rendering import render_markdown
from journal.models import Phase, SessionStatus, Visibility

__all__ = ["PHASE_LABELS", "SHORT_VISIBILITY", "STATUS_LABELS", "VISIBILITY_LABELS"]
from journal.web import context


def local(value: datetime) -> datetime:
    return value.astimezone(context.runtime().settings.zone)


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    return local(value).strftime("%a %d %b %Y, %H:%M")


def day(value: datetime | None) -> str:
    if value is None:
        return ""
    return local(value).strftime("%a %d %b %Y")


def iso(value: datetime) -> str:
    return local(value).isoformat(timespec="minutes")


def markdown(text: str) -> Markup:
    # Safe: render_markdown omits raw HTML and cleans the result with nh3's allow-list.
    return Markup(render_markdown(text))  # noqa: S704


def init_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        when=when,
        day=day,
        iso=iso,
        markdown=markdown,
        phase_label=lambda p: gettext(PHASE_LABELS[Phase(p)]),
        visibility_label=lambda v: gettext(VISIBILITY_LABELS[Visibility(v)]),
        visibility_short=lambda v: gettext(SHORT_VISIBILITY[Visibility(v)]),
        status_label=lambda s: gettext(STATUS_LABELS[SessionStatus(s)]),
    )

    @app.context_processor
    def globals_() -> dict[str, object]:
        return {"clinic_name": context.runtime().settings.clinic_name}
