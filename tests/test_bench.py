"""The benchmark's pieces at a tiny size, so bench/ keeps working (no speed is asserted).

The benchmark itself runs with `python bench/run.py`; this only checks that
the generator writes rows the app reads, and that the in-process measurements
and the JSON layout still fit together.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from bench import jrnl_search, run
from bench.generate import Size, check_readable, generate, load_logins
from journal.config import Settings
from journal.keyrotation import verify_all
from journal.models import Course, Entry, User
from tests.conftest import runtime


def test_generator_writes_a_clinic_the_app_reads(app: Flask, settings: Settings) -> None:
    made = generate(settings, Size(clinicians=2, patients=2, entries=12, caseload=1))
    assert load_logins(settings.instance_path).patient == made.patient
    rt = runtime(app)
    with rt.database.session() as db:
        assert db.scalar(select(func.count()).select_from(Entry)) == 12
        assert db.scalar(select(func.count()).select_from(Course)) == 2
        names = db.scalars(select(User.name)).all()
    assert names and all(n.endswith("(synthetic)") for n in names)
    checked, failures = verify_all(rt.database, rt.ring)
    assert checked > 24 and failures == []
    assert check_readable(settings, made) > 0


def test_measurements_fill_the_json_layout(
    app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "CPU_ROUNDS", 1)
    monkeypatch.setattr(run, "CPU_REQUESTS", 1)
    made = generate(settings, Size(clinicians=1, patients=2, entries=6, caseload=2))
    cpu: dict[str, float] = {}
    sql = run.count_sql(settings, made, made.entry_id, cpu)
    assert set(cpu) == {"hello", "floor", "timeline", "entry", "save", "caseload"}
    assert set(sql) == {"timeline", "entry", "save", "caseload"} and all(sql.values())
    # A write the bench saw acknowledged is found; one it never made counts as lost.
    assert run.verify_writes(settings, {}) == 0
    assert run.verify_writes(settings, {str(uuid.uuid4()): "never written"}) == 1
    rotation = run.measure_rotation(settings)
    assert rotation["entries"] >= 6 and rotation["values"] > 0
    # A small course: the layout of the figures is under test here, not the speed.
    export = run.measure_export(entries=12, sessions=2)
    assert {"pdf_s", "pdf_peak_mb", "json_s"} <= set(export) and export["pdf_s"] > 0

    def load(n: int) -> run.Load:
        return run.Load(n, 0, 1.0, [0.001] * n, 0.1, 0.5, [], [])

    def assemble(database: str) -> dict[str, Any]:
        return run.assemble(
            {"profile": "test", "database": database, "workers": 2, "connections": 1},
            baseline=load(100),
            doubled=load(100),
            hello_rss_mb=1.0,
            floor=load(50),
            pages={name: load(40) for name in ("timeline", "caseload", "entry", "save")},
            sql=sql,
            cpu=cpu,
            worker_rss_mb=1.0,
            writers=load(3),
            writers_s=1,
            lost=0,
            rotation=rotation,
            export=export,
            search={"ours_s": None, "jrnl_s": None, "speedup": None},
            worker_after_mb=120.0,
        )

    figures = assemble("sqlite")
    assert run.missing_keys(figures) == []
    assert figures["memory"]["worker_after_mb"] == 120.0
    assert run.missing_keys({"pages": {}}) != []
    assert json.loads(json.dumps(figures))["pages"]["timeline"]["ratio"] == 0.4
    assert figures["floor"]["ratio"] == 0.5 and figures["floor"]["path"] == "/login"
    # The targets are shares of the floor measured in the same run (40 of 50 req/s).
    assert figures["pages"]["entry"]["of_floor"] == 0.8
    assert figures["pages"]["entry"]["target"] == run.TARGETS["entry"]
    figures |= {"load_processes": 1, "clinic": {}}
    printed = run.table(figures)
    assert "timeline" in printed and "sign-in" in printed
    assert "worker memory after the whole run's load: 120.0 MB" in printed
    assert "of floor" in printed and " 80%" in printed
    assert assemble("postgresql")["pages"]["entry"]["target"] == run.TARGETS["entry"] / 2


def test_search_figures_without_jrnl(
    app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search page timed in-process on one patient's entries; jrnl is never installed
    here (no network in the tests): its figures say why they are missing."""
    made = jrnl_search.texts(30)
    words = {"rare": jrnl_search.RARE_WORD, "common": jrnl_search.COMMON_WORD}
    expected = {k: jrnl_search.expected_hits(made, w) for k, w in words.items()}
    assert expected["rare"] == 1 and 0 < expected["common"] < 30
    patient = jrnl_search.add_patient(settings, made)
    ours = run.measure_search(settings, patient, words, runs=1)
    assert ours["rare_hits"] == expected["rare"] and ours["rare_s"] > 0
    assert ours["common_hits"] == expected["common"] and not ours["common_more"]

    def offline(_venv: object) -> None:
        raise jrnl_search.JrnlUnavailable("no network")

    monkeypatch.setattr(jrnl_search, "install_jrnl", offline)
    theirs = jrnl_search.measure_jrnl(made, words, runs=1)
    assert theirs == {"jrnl_error": "no network"}
    figures = run.search_figures(patient, ours, theirs, expected)
    assert figures["speedup"] is None and figures["jrnl_error"] == "no network"
    assert figures["hits"]["rare"] == {
        "expected": 1,
        "ours": 1,
        "ours_more": False,
        "jrnl": None,
        "agree": True,
    }
    printed = "\n".join(run.search_lines(figures))
    assert "jrnl: no network" in printed and "30 entries" in printed
    assert "(as expected)" in printed
    # With jrnl's figures, the ratio is jrnl's time over ours.
    timed = run.search_figures(patient, ours | {"rare_s": 0.1}, {"rare_s": 1.5}, expected)
    assert timed["speedup"] == 15.0
