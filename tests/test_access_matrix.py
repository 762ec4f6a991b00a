"""Checklist 24: every route x method x role x someone else's object.

The matrix is generated from the app's URL map, so a new route is tested the
day it is added. Each role fills each URL with ids of objects that are not
theirs (the other patient's course for a patient, the first patient's entries
for the other clinician, ...) and with unknown random uuids. Every POST carries
a valid CSRF token, so what is checked is authorisation, not CSRF.

The answer must never be a 500, and no response may hold a marker of content
the role may not read (see tests/scene.py). Anonymous requests are sent to
/login; signed-in ones get 403 or 404. A route this file does not know how to
fill, or a page without ids that is in no allow-list below, fails the run with
a message naming the rule.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import AnyConverter, PathConverter, UUIDConverter
from werkzeug.test import TestResponse

from journal.accounts import policy
from journal.clinical.checklist import load_checklist
from journal.models import (
    CareTeamMember,
    CareTeamProposal,
    Course,
    DosingSession,
    Message,
    Role,
    User,
)
from tests.conftest import Clinic, entry_form, runtime
from tests.helpers import PASSWORD, Browser, mailed_link, mails_to
from tests.scene import Scene, build_scene, leaks, snapshot

# -- the allow-lists: keep them small and explicit ----------------------------

# Public forms whose filled POST answers with a redirect (post/redirect/get); an empty
# one shows the form again.
POSTS_REDIRECT = frozenset({"password_links.forgot"})

# Reachable without signing in.
PUBLIC = frozenset(
    {
        "auth.login",
        "password_links.forgot",  # the same answer whether an address is known or not
        "password_links.sent",  # what it answers, for any address
        "password_links.choose",  # opens only with a one-time link's secret
        "reminders.off",  # the same, for a reminder's one-click link
        "health.healthz",
        "help.page",  # Get help now: crisis lines for anyone, signed in or not
        "static",
    }
)
# Pages without object ids that every signed-in role may open.
EVERYONE_SIGNED_IN = frozenset(
    {
        "home.index",
        "auth.change_password",
        "auth.logout",
        "auth.confirm_identity",
        "auth.two_factor",
        "auth.two_factor_start",
        "auth.two_factor_confirm",
        "auth.two_factor_remove",
        "language.settings",
        "auth.second_factor",  # the step after the password: signed-in people go home
    }
)
# Pages without object ids that only some roles may open; other roles get 403.
ROLE_PAGES: dict[str, frozenset[Role]] = {
    "courses.new_course": frozenset({Role.CLINICIAN}),
    "admin.users": frozenset({Role.ADMIN}),
    "admin.new_user": frozenset({Role.ADMIN}),
    "admin.course_list": frozenset({Role.ADMIN}),
    "admin.new_course": frozenset({Role.ADMIN}),
    "admin.audit_log": frozenset({Role.ADMIN}),
    "admin.audit_csv": frozenset({Role.ADMIN}),
    "admin.audit_verify": frozenset({Role.ADMIN}),
    "admin.messages": frozenset({Role.ADMIN}),
    "admin.counted_again": frozenset({Role.ADMIN}),
    "admin.erasures": frozenset({Role.ADMIN}),
    "reminders.settings": frozenset({Role.PATIENT, Role.CLINICIAN}),  # a clinician: the digest
    "search.results": frozenset({Role.PATIENT, Role.CLINICIAN}),
    "access_log.page": frozenset({Role.PATIENT}),
    "export.my_data": frozenset({Role.PATIENT}),  # the patient's own data, nobody else's
    # The clinic's prompt library: library wording, no patient's data.
    "prompts.library": frozenset({Role.CLINICIAN}),
    "prompts.edit": frozenset({Role.CLINICIAN}),
}
# Admin pages that act on any account or course by id: for an admin these ids
# are not someone else's but what they manage (names only, never content).
ADMIN_MANAGES = frozenset(
    {
        "admin.set_active",
        "admin.send_link",
        "admin.course_team",
        "admin.remove_clinician",
        "admin.erase_user",
        "admin.message_again",
    }
)
# What kind of object each id argument names.
ID_KINDS = {
    "course_id": "course",
    "session_id": "session",
    "entry_id": "entry",
    "user_id": "user",
    "clinician_id": "user",
    "theme_id": "theme",
    "note_id": "note",
    "assignment_id": "assignment",
    "response_id": "response",
    "flag_id": "flag",
    "proposal_id": "proposal",
    "message_id": "message",
    "job_id": "export_job",
}
STATIC_FILES = ("css/app.css", "no-such-file.css")
WRONG_TOKEN = "matrix-guess-of-a-password-link"
# Pages opened by a secret in their URL (a one-time password link, a reminder's
# "no more of these" link): the matrix tries a wrong one.
TOKEN_PAGES = frozenset({"password_links.choose", "reminders.off"})
ROLES = ("anonymous", "patient", "other_patient", "clinician", "other_clinician", "admin")


# -- reading the URL map --------------------------------------------------------


@dataclass(frozen=True)
class Argument:
    name: str
    kind: str  # "id", "choice", "file" or "token"
    detail: str | tuple[str, ...] = ""


def rule_arguments(rule: Rule) -> list[Argument]:
    """How to fill each argument of a rule; fails loudly on anything new."""
    converters: dict[str, Any] | None = getattr(rule, "_converters", None)
    if converters is None or set(converters) != set(rule.arguments):
        pytest.fail(
            f"rule {rule.rule} ({rule.endpoint}): cannot read its converters; "
            "update tests/test_access_matrix.py for this Werkzeug version"
        )
    found = []
    for name, converter in sorted(converters.items()):
        kind = type(converter)
        if kind is UUIDConverter:
            if name not in ID_KINDS:
                pytest.fail(
                    f"rule {rule.rule} ({rule.endpoint}): the id argument {name!r} is new to "
                    "the access matrix; add it to ID_KINDS in tests/test_access_matrix.py "
                    "with the kind of object it names"
                )
            found.append(Argument(name, "id", ID_KINDS[name]))
        elif kind is AnyConverter:
            found.append(Argument(name, "choice", tuple(sorted(converter.items))))
        elif kind is PathConverter and rule.endpoint == "static" and name == "filename":
            found.append(Argument(name, "file"))
        elif rule.endpoint in TOKEN_PAGES and name == "token":
            found.append(Argument(name, "token"))  # a one-time link's secret: try a wrong one
        else:
            pytest.fail(
                f"rule {rule.rule} ({rule.endpoint}): argument {name!r} uses the converter "
                f"{kind.__name__}, which the access matrix does not know how to fill; "
                "teach tests/test_access_matrix.py about it"
            )
    return found


def category(rule: Rule, arguments: list[Argument]) -> str:
    """public, object (takes ids), everyone or role (no ids); fails on an unlisted page."""
    if rule.endpoint in PUBLIC:
        return "public"
    if any(a.kind == "id" for a in arguments):
        return "object"
    if rule.endpoint in EVERYONE_SIGNED_IN:
        return "everyone"
    if rule.endpoint in ROLE_PAGES:
        return "role"
    pytest.fail(
        f"rule {rule.rule} ({rule.endpoint}) takes no object id and is in no allow-list: "
        "decide who may open it and add it to EVERYONE_SIGNED_IN, ROLE_PAGES or PUBLIC "
        "in tests/test_access_matrix.py"
    )


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


# -- whose objects are whose --------------------------------------------------------


@dataclass(frozen=True)
class Value:
    text: str
    label: str
    foreign: bool  # someone else's, or unknown
    unknown: bool = False


@dataclass
class Pools:
    """For one role: the ids to try for each kind of object."""

    values: dict[str, list[Value]]

    @classmethod
    def for_role(cls, scene: Scene, user: User | None, unknown: uuid.UUID) -> Pools:
        c = scene.clinic
        with runtime(scene.app).database.session() as s:
            sessions = list(s.scalars(select(DosingSession)))
        courses = [
            Value(
                str(course.id),
                f"course of {name}",
                user is None or not scene.may_see_course(user, course),
            )
            for course, name in ((c.course, "patient"), (c.other_course, "other_patient"))
        ]
        foreign_courses = {v.text for v in courses if v.foreign}
        session_values = [
            Value(
                str(d.id),
                f"session {d.number} of course {d.course_id}",
                str(d.course_id) in foreign_courses,
            )
            for d in sessions
        ]
        entry_values = [
            Value(str(w.id), f"entry {w.label}", True)
            for w in (scene.written.values() if user is None else scene.unreadable(user))
        ]
        user_values = [
            Value(str(u.id), f"user {u.email}", user is None or u.id != user.id)
            for u in scene.users
        ]
        extra_values = {
            kind: [
                Value(
                    str(x.object_id),
                    f"{kind} on course {x.course.id}",
                    user is None or not scene.may_read_extra(user, x),
                )
                for x in scene.extras
                if x.kind == kind
            ]
            for kind in ("theme", "note")
        }
        staff = user is not None and user.role == Role.CLINICIAN
        assignment_values = [
            Value(
                str(i),
                f"questionnaire on course {c.id}",
                user is None or not scene.may_see_course(user, c),
            )
            for c, i in scene.assignments
        ]
        response_values = [  # the thank-you page of an answer: its patient's alone
            Value(
                str(i),
                f"answered questionnaire on course {c.id}",
                user is None or not (user.role == Role.PATIENT and scene.may_see_course(user, c)),
            )
            for c, i in scene.responses
        ]
        flag_values = [
            Value(
                str(i),
                f"flag on course {c.id}",
                user is None or not (staff and scene.may_see_course(user, c)),
            )
            for c, i in scene.flags
        ]
        proposal_values = [  # decided by a clinician already on the course's care team
            Value(
                str(i),
                f"care-team proposal on course {c.id}",
                user is None or not (staff and scene.may_see_course(user, c)),
            )
            for c, i in scene.proposals
        ]
        with runtime(scene.app).database.session() as s:
            message_ids = list(s.scalars(select(Message.id)))
        message_values = [Value(str(i), "an e-mail message", True) for i in message_ids]
        export_values = [  # a PDF the worker made: for the person who asked alone
            Value(str(i), f"PDF export asked for by {who.email}", user is None or user.id != who.id)
            for who, i in scene.exports
        ]
        miss = Value(str(unknown), "an unknown uuid", True, unknown=True)
        return cls(
            {
                "course": [*courses, miss],
                "session": [*session_values, miss],
                "entry": [*entry_values, miss],
                "user": [*user_values, miss],
                "theme": [*extra_values["theme"], miss],
                "note": [*extra_values["note"], miss],
                "assignment": [*assignment_values, miss],
                "response": [*response_values, miss],
                "flag": [*flag_values, miss],
                "proposal": [*proposal_values, miss],
                "message": [*message_values, miss],
                "export_job": [*export_values, miss],
            }
        )

    def managed(self) -> Pools:
        """For an admin on the admin pages: every account but their own, every course."""
        out = {}
        for kind, values in self.values.items():
            out[kind] = [
                Value(v.text, v.label, True, v.unknown)
                for v in values
                if v.unknown or kind != "user" or v.foreign
            ]
        return Pools(out)


@dataclass(frozen=True)
class Call:
    url: str
    described: str
    all_unknown: bool
    missing: bool  # a static file that does not exist, a password link nobody was sent


def calls(rule: Rule, arguments: list[Argument], pools: Pools) -> Iterator[Call]:
    """Every combination of argument values with at least one foreign or unknown id."""
    options: list[list[tuple[str, Value | None]]] = []
    for arg in arguments:
        if arg.kind == "id":
            pool = pools.values[str(arg.detail)]
            options.append([(v.text, v) for v in pool])
        elif arg.kind == "choice":
            options.append([(item, None) for item in arg.detail])
        elif arg.kind == "token":
            options.append([(WRONG_TOKEN, None)])
        else:
            options.append([(name, None) for name in STATIC_FILES])
    for combo in itertools.product(*options):
        ids = [v for _, v in combo if v is not None]
        if ids and not any(v.foreign for v in ids):
            continue  # only the role's own objects: not what this matrix is about
        values = {arg.name: text for arg, (text, _) in zip(arguments, combo, strict=True)}
        built = rule.build(values, append_unknown=False)
        assert built is not None, (rule.rule, values)
        described = ", ".join(
            f"{arg.name}={v.label if v else text}"
            for arg, (text, v) in zip(arguments, combo, strict=True)
        )
        yield Call(
            url=built[1],
            described=described or "no arguments",
            all_unknown=bool(ids) and all(v.unknown for v in ids),
            missing=values.get("filename") == STATIC_FILES[1] or "token" in values,
        )


# -- sending and judging ------------------------------------------------------------


def payloads(user: User | None) -> list[tuple[str, dict[str, str]]]:
    """An empty form, and one that would succeed if authorisation were missing."""
    probe = entry_form(None, title="Matrix probe", body="Matrix probe body")
    probe.update(
        scheduled_at="2031-05-04T10:00",
        number="5",
        status="completed",
        email=user.email if user else "nobody@clinic.example",
        name="Matrix Probe",
        role="admin",
        indication="Matrix probe",
        quote="Some words",
        kind="feelings",
        session_id="",
        route="oral",  # a session record on a session that has none
        dose="100",
        dose_unit="mg",
        reviewed_on="2026-11-20",
        warning_signs="Matrix probe",  # a safety plan
        reasons="Matrix probe",
        no_change="1",  # a screening's re-check
        document_version="Matrix probe",  # a consent record
        consented_on="2026-11-20",
        witness_id=str(user.id) if user else "",
        checked="risks_explained",
        **{f"answer_{item.id}": "no" for item in load_checklist().items},
    )
    return [("empty form", {}), ("filled form", probe)]


def send(browser: Browser, method: str, url: str, data: dict[str, str]) -> TestResponse:
    if method == "GET":
        return browser.get(url)
    if method == "POST":
        return browser.post(url, data)
    return browser.client.open(url, method=method, data={"csrf_token": browser.token(), **data})


def to_login(response: TestResponse) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def judge(
    role: str, user: User | None, rule: Rule, kind: str, call: Call, response: TestResponse
) -> str | None:
    """What is wrong with this answer, or None."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    if user is None:
        if kind == "public":
            redirects = rule.endpoint in POSTS_REDIRECT and response.request.method == "POST"
            wanted = {404} if call.missing else ({200, 302} if redirects else {200})
            return None if status in wanted else f"answered {status}, wanted {wanted}"
        return None if to_login(response) else f"answered {status}, wanted 302 to /login"
    if to_login(response) and rule.endpoint != "auth.logout":
        return "signed the user out"
    if kind == "public":
        # The forgotten-password form answers a filled POST with its page of its own.
        redirects = rule.endpoint in POSTS_REDIRECT and response.request.method == "POST"
        wanted = {404} if call.missing else ({200, 302} if redirects else {200})
    elif kind == "everyone":
        wanted = {
            "home.index": {200, 302},
            "auth.logout": {302},
            "auth.second_factor": {302},
            "auth.two_factor_start": {302},
            "auth.two_factor_confirm": {302},
            "auth.two_factor_remove": {302},
        }.get(str(rule.endpoint), {200})
    elif kind == "role":
        wanted = {200, 302} if user.role in ROLE_PAGES[str(rule.endpoint)] else {403}
    elif user.role == Role.ADMIN and rule.endpoint in ADMIN_MANAGES:
        wanted = {404} if call.all_unknown else {200, 302, 404}
    else:
        wanted = {403, 404}
    return None if status in wanted else f"answered {status}, wanted one of {sorted(wanted)}"


def signed_in(scene: Scene, role: str) -> tuple[User | None, Browser]:
    if role == "anonymous":
        return None, Browser(scene.app)
    user: User = getattr(scene.clinic, role)
    return user, scene.world.browser(user)


def rules_of(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, str(r.endpoint)))


# -- the matrix ------------------------------------------------------------------


def run_matrix(scene: Scene, role: str) -> tuple[list[str], int]:
    """Send every request of the matrix for one role; return what went wrong."""
    app = scene.app
    user, browser = signed_in(scene, role)
    forbidden = scene.forbidden_markers(user)
    assert forbidden, "the scene must hold content this role may not read"
    pools = Pools.for_role(scene, user, uuid.uuid4())
    before = snapshot(app)

    problems: list[str] = []
    sent = 0
    for rule in rules_of(app):
        arguments = rule_arguments(rule)
        kind = category(rule, arguments)
        manages = user is not None and user.role == Role.ADMIN and rule.endpoint in ADMIN_MANAGES
        rule_calls = list(calls(rule, arguments, pools.managed() if manages else pools))
        assert rule_calls, f"{rule.rule}: no foreign or unknown value to try"
        for method in methods_of(rule):
            bodies = payloads(user) if method != "GET" else [("", {})]
            for call, (what, data) in itertools.product(rule_calls, bodies):
                response = send(browser, method, call.url, data)
                sent += 1
                where = f"{role}: {method} {rule.rule} [{rule.endpoint}] with {call.described}"
                where += f" ({what})" if what else ""
                problem = judge(role, user, rule, kind, call, response)
                if problem:
                    problems.append(f"{where}: {problem}")
                for leak in leaks(response, forbidden):
                    problems.append(f"{where}: answered {response.status_code} showing {leak}")
                if rule.endpoint == "auth.logout" and user is not None:
                    browser = scene.world.browser(user)  # sign in again and carry on

    after = snapshot(app)
    # An admin may change accounts and care teams; never content, sessions or courses.
    admin = user is not None and user.role == Role.ADMIN
    keys = ("entries", "revisions", "sessions", "courses") if admin else tuple(before)
    problems += [
        f"{role}: the requests changed {key} in the database"
        for key in keys
        if after[key] != before[key]
    ]
    return problems, sent


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reaches_someone_elses_objects(clinic: Clinic, role: str) -> None:
    problems, sent = run_matrix(build_scene(clinic), role)
    assert sent > 100
    assert not problems, f"{len(problems)} of {sent} requests went wrong:\n" + "\n".join(
        problems[:60]
    )


# -- the matrix itself must be able to fail ----------------------------------------


def test_the_allow_lists_name_real_endpoints(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    listed = PUBLIC | EVERYONE_SIGNED_IN | set(ROLE_PAGES) | ADMIN_MANAGES
    assert listed <= endpoints, f"stale allow-list entries: {sorted(listed - endpoints)}"
    # Every rule can be filled and classified (this is where a new route fails first).
    for rule in app.url_map.iter_rules():
        category(rule, rule_arguments(rule))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/things/<int:thing_no>", "converter IntegerConverter"),
        ("/things/<uuid:thing_id>", "id argument 'thing_id' is new"),
        ("/things/<thing>", "converter UnicodeConverter"),
    ],
)
def test_an_unknown_argument_fails_loudly(path: str, message: str) -> None:
    url_map = Map([Rule(path, endpoint="things.view")])
    (rule,) = url_map.iter_rules()
    with pytest.raises(pytest.fail.Exception, match=message) as failed:
        rule_arguments(rule)
    assert "things.view" in str(failed.value)


def test_an_unlisted_page_without_ids_fails_loudly() -> None:
    url_map = Map([Rule("/reports", endpoint="reports.index")])
    (rule,) = url_map.iter_rules()
    with pytest.raises(pytest.fail.Exception, match=r"/reports \(reports.index\)"):
        category(rule, rule_arguments(rule))


def test_judge_rejects_a_foreign_object_shown(clinic: Clinic) -> None:
    """A 200 for someone else's entry is reported, and so is its marker in the body."""
    scene = build_scene(clinic)
    user, browser = signed_in(scene, "clinician")
    own = scene["pshared"]  # readable by the clinician: stands in for a leak
    response = browser.get(f"/entries/{own.id}")
    assert response.status_code == 200
    rule = next(r for r in scene.app.url_map.iter_rules() if r.endpoint == "entries.view")
    call = Call(f"/entries/{own.id}", "entry_id=pshared", all_unknown=False, missing=False)
    assert judge("clinician", user, rule, "object", call, response) is not None
    assert leaks(response, {own.current.markers[0]: "pshared title"})


def test_the_matrix_catches_a_broken_care_team_check(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the care-team check switched off, the other clinician's run must fail."""
    monkeypatch.setattr(policy, "is_on_care_team", lambda *_args: True)
    problems, _ = run_matrix(build_scene(clinic), "other_clinician")
    assert any("courses.timeline" in p and "showing" in p for p in problems), problems[:5]
    assert any("entries.view" in p and "answered 200" in p for p in problems), problems[:5]


# -- the admin's two escalation routes, and a clinician reaching for a stranger ------------


CSRF_VALUE = re.compile(r"<input[^>]*csrf_token[^>]*>")


def _proposal_of(app: Flask, course_id: uuid.UUID, clinician_id: uuid.UUID) -> uuid.UUID:
    with runtime(app).database.session() as s:
        return s.scalars(
            select(CareTeamProposal.id).where(
                CareTeamProposal.course_id == course_id,
                CareTeamProposal.clinician_id == clinician_id,
            )
        ).one()


@pytest.mark.security_review(finding=1)
def test_an_admin_who_makes_a_clinician_for_themself_never_reads_the_course(
    clinic: Clinic,
) -> None:
    """Route 1 of the review: make a clinician account, put it on a patient's care team,
    sign in as it. Every step is refused or reaches nothing."""
    scene = build_scene(clinic)
    app, course = scene.app, clinic.course
    admin = clinic.world.browser(clinic.admin)
    puppet = "puppet-clinician@clinic.example"
    r = admin.post(
        "/admin/users/new", {"name": "Puppet (test)", "email": puppet, "role": "clinician"}
    )
    assert r.status_code == 302
    # 1. No password and no link is shown to the admin, on any page it can open.
    link = mailed_link(app, puppet)
    token = link.rsplit("/", 1)[-1]
    for url in ("/admin/users", "/admin/courses", f"/admin/courses/{course.id}", "/admin/audit"):
        assert token not in admin.text(url), url
    # 2. Without the link, the account has no password anyone knows: it cannot sign in.
    assert Browser(app).login(puppet, PASSWORD).status_code == 200
    # 3. Put on the care team, it is only proposed: the patient is told at once.
    with runtime(app).database.session() as s:
        puppet_id = s.scalars(select(User.id).where(User.email == puppet)).one()
    r = admin.post(f"/admin/courses/{course.id}", {"email": puppet})
    assert r.status_code == 302
    assert str(puppet_id) not in {str(i) for i in _team(app, course.id)}
    assert any("Puppet (test)" in body for body in mails_to(app, clinic.patient.email))
    patient = clinic.world.browser(clinic.patient)
    assert "Puppet (test)" in patient.text(f"/courses/{course.id}")
    assert "Puppet (test)" in patient.text("/account/access-log")
    # 4. Signed in as the puppet (say the admin also holds its mailbox), it reads nothing.
    b = Browser(app)
    b.get(link)
    b.post(
        link,
        {
            "password": "puppet strings pulled taut",
            "confirm_password": "puppet strings pulled taut",
        },
    )
    proposal = _proposal_of(app, course.id, puppet_id)
    puppet_user = clinic.world.db.get(User, puppet_id)
    assert puppet_user is not None
    clinic.world.enrol_second_factor(puppet_user)
    as_puppet = clinic.world.browser(puppet_user)
    for url in (
        f"/courses/{course.id}",
        f"/entries/{scene['conly'].id}",
        f"/courses/{course.id}/notes",
    ):
        r = as_puppet.get(url)
        assert r.status_code == 404, url
        assert not leaks(r, scene.forbidden_markers(puppet_user))
    # 5. Neither the admin nor the puppet can agree to the proposal.
    for who in (admin, as_puppet):
        assert who.post(f"/care-team/proposals/{proposal}/agree").status_code in {403, 404}
    assert str(puppet_id) not in {str(i) for i in _team(app, course.id)}


@pytest.mark.security_review(finding=1)
def test_an_admin_cannot_take_over_a_patients_account(clinic: Clinic) -> None:
    """Route 2 of the review: reset the patient's password and sign in as them. The admin
    can only have a link sent to the patient's own address; the password stays."""
    app = clinic.world.app
    admin = clinic.world.browser(clinic.admin)
    assert admin.post(f"/admin/users/{clinic.patient.id}/reset-password").status_code == 404
    r = admin.post(f"/admin/users/{clinic.patient.id}/send-link")
    assert r.status_code == 302
    page = admin.text("/admin/users")
    link = mailed_link(app, clinic.patient.email)
    assert link.rsplit("/", 1)[-1] not in page
    assert Browser(app).login(clinic.patient.email, PASSWORD).status_code == 302
    # No web page lets an admin set or see a password of another account.
    for rule in app.url_map.iter_rules():
        if str(rule.endpoint).startswith("admin."):
            assert "password" not in rule.rule, rule.rule


@pytest.mark.security_review(finding=3)
def test_a_clinician_cannot_attach_to_a_patient_not_theirs(clinic: Clinic) -> None:
    """Opening a course is the way onto a care team: only for a patient the intake referred
    to the clinician or already on one of their courses, and the refusal says the same
    for an address that is nobody's."""
    app = clinic.world.app
    stranger = clinic.world.user(Role.PATIENT)
    form = {"started_on": "2031-02-03", "indication": ""}
    b = clinic.world.browser(clinic.clinician)
    answers = []
    for email in (stranger.email, clinic.other_patient.email, "nobody-at-all@clinic.example"):
        r = b.post("/courses/new", {**form, "patient_email": email})
        assert r.status_code in {200, 400}
        page = CSRF_VALUE.sub("", r.get_data(as_text=True))
        answers.append(page.replace(email, "ADDRESS"))
    assert answers[0] == answers[1] == answers[2]
    assert "No patient referred to you" in answers[0]
    with runtime(app).database.session() as s:
        assert s.scalars(select(Course).where(Course.patient_id == stranger.id)).first() is None
    # Referred by the intake, the same clinician opens the course.
    admin = clinic.world.browser(clinic.admin)
    admin.post(
        "/admin/users/new",
        {
            "name": "Referred (test)",
            "email": "referred@clinic.example",
            "role": "patient",
            "refer_to": clinic.clinician.email,
        },
    )
    r = b.post("/courses/new", {**form, "patient_email": "referred@clinic.example"})
    assert r.status_code == 302
    # A patient already on one of their courses: a second course is fine.
    r = b.post("/courses/new", {**form, "patient_email": clinic.patient.email})
    assert r.status_code == 302


def _team(app: Flask, course_id: uuid.UUID) -> list[uuid.UUID]:
    with runtime(app).database.session() as s:
        return list(
            s.scalars(
                select(CareTeamMember.clinician_id).where(CareTeamMember.course_id == course_id)
            )
        )
