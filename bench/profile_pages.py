"""Where a page's CPU time goes: cProfile over repeated requests in one process.

    .venv/bin/python bench/generate.py --instance /tmp/clinic --patients 45 --entries 4500
    .venv/bin/python bench/profile_pages.py --instance /tmp/clinic [--page timeline] [--top 40]

Signs in as the generated clinic's patient and clinician through the test
client (as `bench/run.py` does for its in-process figures), then profiles
each page and prints the functions that took the most cumulative time, the
SQL statements the page ran, and its CPU time per request.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.generate import load_logins
from bench.run import CSRF_RE, cpu_ms, entry_form, patient_entries
from journal import create_app
from journal.config import load_settings
from journal.runtime import Runtime


def sign_in(client: Any, email: str, password: str, code: str | None) -> bool:
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page)
    assert token
    resp = client.post(
        "/login", data={"csrf_token": token.group(1), "email": email, "password": password}
    )
    if resp.status_code == 302 and resp.location.endswith("/login/verify"):
        page = client.get("/login/verify").get_data(as_text=True)
        token = CSRF_RE.search(page)
        assert token and code
        resp = client.post("/login/verify", data={"csrf_token": token.group(1), "code": code})
    return resp.status_code == 302 and not resp.location.endswith("/login/verify")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--page", action="append", help="timeline, entry, save, caseload")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    settings = load_settings(environ={"JOURNAL_INSTANCE_PATH": str(args.instance)})
    clinic = load_logins(args.instance)
    app = create_app(settings)
    runtime: Runtime = app.extensions["journal"]
    statements: list[tuple[str, float]] = []  # each statement and when it started
    engine = runtime.database.engine
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, sql, *_a: statements.append((sql, time.perf_counter())),
    )

    def finished(*_args: Any) -> None:
        sql, began = statements[-1]
        statements[-1] = (sql, time.perf_counter() - began)

    event.listen(engine, "after_cursor_execute", finished)

    patient = app.test_client()
    sign_in(patient, clinic.patient, clinic.password, None)
    clinician = app.test_client()
    # Each recovery code works once, and every run of this script spends one.
    codes = clinic.recovery_codes[clinic.clinician]
    if not any(sign_in(clinician, clinic.clinician, clinic.password, c) for c in codes):
        raise SystemExit("the clinician's recovery codes are spent: generate the clinic again")
    entry_id = patient_entries(settings, clinic, limit=1)[0]
    form_page = patient.get(f"/courses/{clinic.course_id}/entries/new").get_data(as_text=True)
    token = CSRF_RE.search(form_page)
    assert token
    form = entry_form(clinic.course_id, token.group(1), "Profiled")
    pages: dict[str, Callable[[], Any]] = {
        "timeline": lambda: patient.get(f"/courses/{clinic.course_id}"),
        "entry": lambda: patient.get(f"/entries/{entry_id}"),
        "save": lambda: patient.post(f"/courses/{clinic.course_id}/entries/new", data=form),
        "caseload": lambda: clinician.get("/"),
    }
    for name in args.page or list(pages):
        call = pages[name]
        call()
        statements.clear()
        resp = call()
        assert resp.status_code in (200, 302), (name, resp.status_code)
        ran = list(statements)
        print(f"\n=== {name}: {len(ran)} SQL statements, {cpu_ms(call)} ms CPU")
        for sql, took in ran:
            print(f"  {took * 1000:6.2f} ms", " ".join(sql.split())[:140])
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            call()
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(args.top)
    runtime.database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
