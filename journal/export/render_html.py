"""Printable HTML (the PDF has a Typst template of its own: pdf/template/).

The template's words are marked with `_()` and read from the catalogue of the
export's language (jinja2's i18n extension, one environment per language): the
file is made outside Flask's request too, so never through Flask-Babel."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from journal.config import PROJECT_ROOT
from journal.core.catalogues import translations
from journal.core.rendering import render_markdown
from journal.export import text
from journal.export.model import CourseDocument, PatientDataDocument, SessionRecord
from journal.models import Phase

TEMPLATE = "export/document.html"
STYLESHEET = PROJECT_ROOT / "static" / "css" / "export.css"


@cache
def _environment(language: str = "en") -> Environment:
    env = Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]  # added by the i18n extension
        translations(language), newstyle=True
    )
    env.filters["when"] = text.when
    env.filters["day"] = text.day
    # Safe: render_markdown omits raw HTML and cleans the result with nh3's allow-list.
    env.filters["markdown"] = lambda value: Markup(render_markdown(value))  # noqa: S704
    # Plain text kept as written: each line escaped, line breaks kept.
    env.filters["plain_paragraphs"] = lambda value: Markup("<br>\n").join(
        value.strip().splitlines()
    )
    env.globals.update(
        phases=list(Phase),
        phase_labels=text.PHASES,
        visibility=text.VISIBILITY,
        status=text.STATUS,
        scopes=text.SCOPES,
        covers=text.span,
        review=text.review,
        notes_heading=text.notes_heading,
        sessions_list=text.sessions_list,
        session_name=text.session_name,
        after_session=text.after_session,
        between_heading=text.between_heading,
        clinical_cells=text.clinical_cells,
        record_details=text.record_details,
        outcomes=text.OUTCOMES,
        answers=text.ANSWERS,
        screening_summary=text.screening_summary,
        recheck_line=text.recheck_line,
        recheck_changes=text.recheck_changes,
        consent_saved=text.consent_saved,
        consent_facts=text.consent_facts,
        amendment_line=text.amendment_line,
        amendment_changes=text.amendment_changes,
        tr=text.tr,
        entry_meta=text.entry_meta,
        running_head=text.running_head,
        course_facts=text.course_facts,
        saved_line=text.saved_line,
        session_heading=text.session_heading,
        score=text.score,
        out_of=text.out_of,
        review_flag=text.review_flag,
        answers_heading=text.answers_heading,
        not_counted=text.NOT_COUNTED,
        theme_kinds=text.THEME_KINDS,
        colon=text.colon,
        labelled=text.labelled,
        action_done=text.action_done,
    )
    return env


@cache
def stylesheet() -> str:
    return STYLESHEET.read_text(encoding="utf-8")


def _embedded() -> Markup:
    """The file is read offline, so its stylesheet travels inside it."""
    return Markup(f"<style>\n{stylesheet()}</style>")  # noqa: S704 (our own file)


# A part of a document: a course, whether its cover and overview are in it, and
# which of its sessions (None: all).
Part = tuple[CourseDocument, bool, tuple[SessionRecord, ...] | None]


def _render(language: str, **values: Any) -> str:
    with text.in_language(language):
        return _environment(language).get_template(TEMPLATE).render(lang=language, **values)


def course_html(
    doc: CourseDocument, *, embed_css: bool = True, parts: list[Part] | None = None
) -> str:
    with text.in_language(doc.language):
        title = text.tr(text.COURSE_TITLE)
    return _render(
        doc.language,
        title=title,
        stylesheet=_embedded() if embed_css else "",
        parts=[(doc, True, None)] if parts is None else parts,
        account=None,
        head=True,
    )


def patient_data_html(
    doc: PatientDataDocument,
    *,
    embed_css: bool = True,
    parts: list[Part] | None = None,
    head: bool = True,
) -> str:
    """`head`: the account's cover (the first part of a PDF typeset in parts)."""
    with text.in_language(doc.language):
        title = text.tr(text.ACCOUNT_TITLE)
        facts = text.account_facts(doc)
    return _render(
        doc.language,
        title=title,
        account_facts=facts,
        stylesheet=_embedded() if embed_css else "",
        parts=[(c, True, None) for c in doc.courses] if parts is None else parts,
        account=doc.account,
        head=head,
        clinic_name=doc.clinic_name,
        generated_at=doc.generated_at,
        zone=doc.zone,
    )


def render_course(doc: CourseDocument) -> bytes:
    return course_html(doc).encode()
