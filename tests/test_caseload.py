"""The clinician's caseload (their home page): counts that follow what happens,
sorting and filtering by query parameters, and a fixed number of SQL statements
however large the caseload."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest
from flask import Flask

from journal.models import Course, DosingSession, Phase, Role, SessionStatus, User, Visibility
from journal.review import comments, review
from journal.review.comments import CommentInput
from tests.conftest import World
from tests.helpers import Browser
from tests.scene import Written, rewrite, write
from tests.sql_counts import measure, steady_sessions

ROW_RE = re.compile(r'<tr class="(attention)?">(.*?)</tr>', re.S)
NAME_RE = re.compile(r'<a href="/courses/[0-9a-f-]{36}">([^<]+)</a>')
CELL_RE = re.compile(r'<td data-label="([^"]+)">(.*?)</td>', re.S)
TAG_RE = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Row:
    name: str
    attention: bool
    new: int
    unreviewed: int
    unread: int
    next_session: str


def caseload(b: Browser, query: str = "") -> list[Row]:
    r = b.get(f"/{query}")
    assert r.status_code == 200, (query, r.status_code)
    page = r.get_data(as_text=True)
    rows = []
    for attention, inner in ROW_RE.findall(page):
        name = NAME_RE.search(inner)
        assert name is not None
        cells = {k: TAG_RE.sub("", v).strip() for k, v in CELL_RE.findall(inner)}
        rows.append(
            Row(
                html.unescape(name.group(1)),
                bool(attention),
                int(cells["New since you looked"]),
                int(cells["Not reviewed"]),
                int(cells["Unread comments"]),
                cells["Next session"],
            )
        )
    return rows


def counts(b: Browser, name: str) -> tuple[int, int, int]:
    (row,) = [r for r in caseload(b, "?show=all") if r.name == name]
    return row.new, row.unreviewed, row.unread


def names(rows: list[Row]) -> list[str]:
    return [r.name for r in rows]


@dataclass
class Caseload:
    world: World
    doc: User
    patients: dict[str, User]
    courses: dict[str, Course]
    past: dict[str, DosingSession]


@pytest.fixture
def load(world: World) -> Caseload:
    """A clinician with three patients; sessions on different days."""
    doc = world.user(Role.CLINICIAN, name="Dr Fictional Tester")
    patients, courses_, past = {}, {}, {}
    for n, first in enumerate(("Zora", "Abel", "Mina")):
        patient = world.user(Role.PATIENT, name=f"{first} Example")
        course = world.course(patient, doc)
        past[first] = world.session(course, doc, -5, SessionStatus.COMPLETED)
        world.session(course, doc, 10 - 3 * n)  # Mina first, then Abel, then Zora
        patients[first], courses_[first] = patient, course
    return Caseload(world, doc, patients, courses_, past)


def entry(load: Caseload, who: str, visibility: Visibility = Visibility.CARE_TEAM) -> Written:
    return write(load.world, load.patients[who], load.courses[who], visibility, label=who.lower())


# -- the counts ---------------------------------------------------------------------------


def test_counts_follow_what_happens(load: Caseload) -> None:
    zora = entry(load, "Zora")
    entry(load, "Abel")
    second = entry(load, "Zora")
    entry(load, "Zora", Visibility.PRIVATE)  # never counted
    b = load.world.browser(load.doc)
    assert counts(b, "Zora Example") == (2, 2, 0)
    assert counts(b, "Abel Example") == (1, 1, 0)
    assert counts(b, "Mina Example") == (0, 0, 0)

    # Opening the timeline: nothing is new any more, nothing is reviewed yet.
    b.text(f"/courses/{load.courses['Zora'].id}")
    assert counts(b, "Zora Example") == (0, 2, 0)
    assert counts(b, "Abel Example") == (1, 1, 0)

    assert b.post(f"/entries/{zora.id}/review").status_code == 302
    assert counts(b, "Zora Example") == (0, 1, 0)
    # Edited after the review: new again, and not reviewed in its new version.
    rewrite(load.world, zora, Visibility.CARE_TEAM)
    assert counts(b, "Zora Example") == (1, 2, 0)

    # The clinician's own entries and comments count for nothing; the patient's reply does.
    r = b.post(
        f"/courses/{load.courses['Mina'].id}/entries/new",
        {
            "phase": "integration",
            "session_id": "",
            "title": "Fictional letter",
            "body": "Fictional words.",
            "visibility": "care_team",
            "mood": "",
            "intentions": "",
            "version": "",
        },
    )
    assert r.status_code == 302
    r = b.post(f"/entries/{second.id}/comments", {"body": "Fictional question"})
    assert r.status_code == 302
    comment_id = r.location.rsplit("#c-", 1)[-1]
    assert counts(b, "Mina Example") == (0, 0, 0)
    assert counts(b, "Zora Example") == (1, 2, 0)
    patient = load.world.browser(load.patients["Zora"])
    r = patient.post(
        f"/entries/{second.id}/comments", {"body": "Fictional answer", "parent_id": comment_id}
    )
    assert r.status_code == 302
    assert counts(b, "Zora Example") == (1, 2, 1)
    b.text(f"/entries/{second.id}")
    assert counts(b, "Zora Example") == (1, 2, 0)

    # A session-wide review clears the rest of a patient's entries.
    url = f"/courses/{load.courses['Abel'].id}/sessions/{load.past['Abel'].id}/review"
    assert b.post(url).status_code == 302
    assert counts(b, "Abel Example") == (1, 0, 0)


def test_sorting_and_filtering(load: Caseload) -> None:
    for _ in range(2):
        entry(load, "Zora")
    entry(load, "Abel")
    b = load.world.browser(load.doc)

    default = caseload(b)
    assert names(default) == ["Zora Example", "Abel Example", "Mina Example"]
    assert [r.attention for r in default] == [True, True, False]
    assert names(caseload(b, "?sort=name")) == ["Abel Example", "Mina Example", "Zora Example"]
    assert names(caseload(b, "?sort=next")) == ["Mina Example", "Abel Example", "Zora Example"]
    assert names(caseload(b, "?sort=new"))[:2] == ["Zora Example", "Abel Example"]
    assert names(caseload(b, "?sort=unreviewed"))[:2] == ["Zora Example", "Abel Example"]
    assert names(caseload(b, "?attention=1")) == ["Zora Example", "Abel Example"]
    assert names(caseload(b, "?attention=1&sort=name")) == ["Abel Example", "Zora Example"]
    assert names(caseload(b, "?name=mina")) == ["Mina Example"]
    assert names(caseload(b, "?name=EXAMPLE&sort=name")) == [
        "Abel Example",
        "Mina Example",
        "Zora Example",
    ]
    page = b.text("/?name=nobody")
    assert "No patients match this filter." in page and caseload(b, "?name=nobody") == []

    # Closed courses appear only when asked for.
    r = b.post(f"/courses/{load.courses['Abel'].id}/status/closed")
    assert r.status_code == 302
    assert "Abel Example" not in names(caseload(b))
    assert names(caseload(b, "?show=closed")) == ["Abel Example"]
    assert set(names(caseload(b, "?show=all"))) == {"Zora Example", "Abel Example", "Mina Example"}

    # Values the page does not know fall back to the defaults, without an error.
    for query in (
        "?sort=bogus",
        "?show=bogus",
        "?sort=&show=",
        "?attention=yes",
        "?sort=name;DROP",
        "?name=" + "x" * 5000,
        "?name=%3Cscript%3E",
        "?name=Stra%C3%9Fe%F0%9F%8C%8A",
        "?name=%00",
        "?sort=__class__&show=__init__",
    ):
        r = b.get(f"/{query}")
        assert r.status_code == 200, query
        assert "<script>" not in r.get_data(as_text=True)
    assert names(caseload(b, "?sort=bogus&show=bogus")) == names(caseload(b))


def test_only_clinicians_have_a_caseload(load: Caseload) -> None:
    entry(load, "Zora")
    patient = load.world.browser(load.patients["Zora"])
    r = patient.get("/")
    assert r.status_code == 302  # to the patient's own timeline
    assert r.location.endswith(f"/courses/{load.courses['Zora'].id}")
    page = patient.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Abel Example" not in page and "Mina Example" not in page
    outsider = load.world.browser(load.world.user(Role.CLINICIAN))
    rows = caseload(outsider, "?show=all")
    assert rows == []
    assert "Zora Example" not in outsider.text("/?show=all")


# -- the SQL statements do not grow with the caseload --------------------------------------


@pytest.fixture
def steady_login_sessions(app: Flask) -> None:
    steady_sessions(app)


def fill_caseload(world: World, doc: User, patients: int) -> Browser:
    """Patients with entries of every kind, comments and replies, some reviewed, some
    looked at; the clinician has a closed course too."""
    b = world.browser(doc)
    for n in range(patients):
        patient = world.user(Role.PATIENT)
        course = world.course(patient, doc)
        world.session(course, doc, -4, SessionStatus.COMPLETED)
        world.session(course, doc, 2 + n)
        shared = write(world, patient, course, Visibility.CARE_TEAM, label=f"s{n}")
        write(world, patient, course, Visibility.PRIVATE, label=f"p{n}")
        write(world, doc, course, Visibility.CLINICIAN_ONLY, label=f"c{n}", phase=Phase.IN_SESSION)
        second = write(world, patient, course, Visibility.CARE_TEAM, label=f"t{n}")
        made = comments.add_comment(world.as_(doc), shared.id, CommentInput(body="Fictional note"))
        comments.add_comment(
            world.as_(patient), shared.id, CommentInput(body="Fictional reply", parent_id=made.id)
        )
        comments.add_comment(
            world.as_(doc),
            second.id,
            CommentInput(body="Fictional aside", visibility=Visibility.CLINICIAN_ONLY),
        )
        review.mark_reviewed(world.as_(doc), shared.id)
        if n % 2 == 0:
            b.text(f"/courses/{course.id}")
        if n == 0:
            rewrite(world, second, Visibility.CARE_TEAM)
        if n == 1:
            assert b.post(f"/courses/{course.id}/status/closed").status_code == 302
    return b


@pytest.mark.usefixtures("steady_login_sessions")
@pytest.mark.parametrize("query", ["", "?show=all&sort=next", "?attention=1&sort=unreviewed"])
def test_caseload_statements_do_not_grow_with_patients(world: World, query: str) -> None:
    small = fill_caseload(world, world.user(Role.CLINICIAN), 2)
    large = fill_caseload(world, world.user(Role.CLINICIAN), 12)
    app = world.app
    for b in (small, large):
        measure(app, b, f"/{query}")
    few, many = measure(app, small, f"/{query}"), measure(app, large, f"/{query}")
    assert few, "the listener saw no statement"
    extra = [s for s in many if many.count(s) > few.count(s)]
    assert len(few) == len(many), f"{len(few)} statements for 2, {len(many)} for 12:\n" + (
        "\n---\n".join(dict.fromkeys(extra))
    )
    assert len(caseload(large, query or "?show=all")) >= 2


def test_counts_stop_at_a_cap(load: Caseload, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap a cell says "N+": counting on would walk every entry of the course."""
    from journal.review import caseload as service

    monkeypatch.setattr(service, "COUNT_CAP", 3)
    for _ in range(2):
        entry(load, "Zora")
    b = load.world.browser(load.doc)
    assert counts(b, "Zora Example") == (2, 2, 0)
    for _ in range(3):
        entry(load, "Zora")
    (row,) = [r for r in ROW_RE.findall(b.text("/?show=all")) if "Zora Example" in r[1]]
    cells = {k: TAG_RE.sub("", v).strip() for k, v in CELL_RE.findall(row[1])}
    assert cells["New since you looked"] == cells["Not reviewed"] == "2+"
