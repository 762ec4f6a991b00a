"""A collected document's labels in the export's language.

The journal's own words in a document (a route, a side effect, a checklist item, an
answer, a band, a threshold, what a version changed) are collected in English, as
the clinical modules mark them (`N_`); here they are translated, once, for every
format: the JSON's labels, the Markdown, the HTML and the PDF. What people wrote is
never passed through the catalogue.
"""

from __future__ import annotations

from dataclasses import replace

from journal.core.catalogues import Words
from journal.core.labels import Phrase
from journal.export.model import (
    AmendmentRecord,
    AnswerLine,
    ClinicalRecord,
    ConsentRecord,
    ConsentVersionRecord,
    CourseDocument,
    QuestionnaireTrend,
    SafetyFlagRecord,
    SafetyPlanRecord,
    SafetyPlanVersionRecord,
    ScoreRecord,
    ScreeningRecord,
    SessionRecord,
)


class _Localiser:
    def __init__(self, words: Words) -> None:
        self.w = words

    def all(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.w(label) for label in labels)

    def optional(self, label: str | None) -> str | None:
        return None if label is None else self.w(label) if label else label

    def history(self, versions: tuple[AmendmentRecord, ...]) -> tuple[AmendmentRecord, ...]:
        return tuple(replace(a, changes=self.all(a.changes)) for a in versions)

    def answers(self, lines: tuple[AnswerLine, ...]) -> tuple[AnswerLine, ...]:
        # The answer is one of a closed set the JSON names as it is ("Yes", "No", "Not
        # answered"); the other formats put it in words (text.py).
        return tuple(replace(a, item=self.w(a.item)) for a in lines)

    def clinical(self, c: ClinicalRecord | None) -> ClinicalRecord | None:
        if c is None:
            return None
        w = self.w
        return replace(
            c,
            route=w(c.route),
            side_effects=self.all(c.side_effects),
            bp_breaches=tuple((reading, w(limit)) for reading, limit in c.bp_breaches),
            drug=w(c.drug) if c.drug else "",
            modality=w(c.modality) if c.modality else "",
            readings=tuple(
                replace(r, point=w(r.point), flag=w(r.flag) if r.flag else "") for r in c.readings
            ),
            pre_session=self.answers(c.pre_session),
            discharge_criteria=self.answers(c.discharge_criteria),
            history=self.history(c.history),
            dose_notice=self.dose_notice(c.dose_notice, c.route),
        )

    def dose_notice(self, notice: str, route: str) -> str:
        """The dose notice with the route named in the export's language, as the record
        page names it (`DoseNotice.in_words`: the route's label, lower-case first)."""
        if not notice:
            return notice
        if isinstance(notice, Phrase) and "route" in notice.values:
            named = self.w(route)
            route_words = f"{named[:1].lower()}{named[1:]}"
            notice = Phrase(notice.words, {**notice.values, "route": route_words})
        return self.w(notice)

    def session(self, s: SessionRecord) -> SessionRecord:
        return replace(s, clinical=self.clinical(s.clinical)) if s.clinical else s

    def score(self, r: ScoreRecord) -> ScoreRecord:
        w = self.w
        return replace(
            r,
            band=w(r.band),
            review_note=self.optional(r.review_note),
            filed_under=self.optional(r.filed_under),
            review_flags=None
            if r.review_flags is None
            else tuple(replace(f, label=w(f.label)) for f in r.review_flags),
            clusters=None
            if r.clusters is None
            else tuple(replace(c, label=w(c.label)) for c in r.clusters),
            # An answer is the option's published label, as it is; a point on a line
            # ("37 of 100") is the journal's own words.
            answers=None
            if r.answers is None
            else tuple(
                replace(a, words=w(a.words)) if isinstance(a.words, Phrase) else a
                for a in r.answers
            ),
        )

    def questionnaire(self, q: QuestionnaireTrend) -> QuestionnaireTrend:
        # Its title, items and answers are the questionnaire's own words: in its published
        # translation (collect.py chose it), never through the catalogue (but for a
        # point on a line, in `score`).
        return replace(q, scores=tuple(self.score(r) for r in q.scores))

    def screening(self, s: ScreeningRecord | None) -> ScreeningRecord | None:
        if s is None:
            return None
        w = self.w
        return replace(
            s,
            checklist=w(s.checklist),
            items=tuple(replace(i, text=w(i.text)) for i in s.items),
            rechecks=tuple(
                replace(r, changes=tuple(replace(c, text=w(c.text)) for c in r.changes))
                for r in s.rechecks
            ),
            history=self.history(s.history),
        )

    def flag(self, f: SafetyFlagRecord) -> SafetyFlagRecord:
        return replace(f, detail=self.w(f.detail), action_label=self.optional(f.action_label))

    def plan(self, p: SafetyPlanRecord | None) -> SafetyPlanRecord | None:
        if p is None:
            return None

        def version(v: SafetyPlanVersionRecord) -> SafetyPlanVersionRecord:
            steps = tuple(replace(st, title=self.w(st.title)) for st in v.steps)
            return replace(v, steps=steps, changes=self.all(v.changes))

        return replace(p, current=version(p.current), earlier=tuple(map(version, p.earlier)))

    def consent(self, c: ConsentRecord | None) -> ConsentRecord | None:
        if c is None:
            return None

        def version(v: ConsentVersionRecord) -> ConsentVersionRecord:
            items = tuple(replace(i, text=self.w(i.text)) for i in v.items)
            return replace(v, items=items, changes=self.all(v.changes))

        return replace(c, current=version(c.current), earlier=tuple(map(version, c.earlier)))


def localise(doc: CourseDocument) -> CourseDocument:
    """The document with the journal's own labels in its language (English: as it is)."""
    if doc.language == "en":
        return doc
    to = _Localiser(Words(doc.language))
    return replace(
        doc,
        sessions=tuple(to.session(s) for s in doc.sessions),
        questionnaires=tuple(to.questionnaire(q) for q in doc.questionnaires),
        screening=to.screening(doc.screening),
        safety_flags=tuple(to.flag(f) for f in doc.safety_flags),
        safety_plan=to.plan(doc.safety_plan),
        consent=to.consent(doc.consent),
    )
