"""The benchmark's pieces at a tiny size, so bench/ keeps working (no speed is asserted).

The benchmark itself runs with `python bench/run.py`; this only checks that
the generator writes rows the app reads, and that the in-process measurements
and the JSON layout still fit together.
"""

from __future__ import annotations

import json
import uuid

import pytest
from flask import Flask
from sqlalchemy import func, select

from bench import run
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

    figures = run.assemble(
        {"profile": "test", "database": "sqlite", "workers": 2, "connections": 1},
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
    )
    assert run.missing_keys(figures) == []
    assert run.missing_keys({"pages": {}}) != []
    assert json.loads(json.dumps(figures))["pages"]["timeline"]["ratio"] == 0.4
    assert figures["floor"]["ratio"] == 0.5 and figures["floor"]["path"] == "/login"
    figures |= {"load_processes": 1, "clinic": {}}
    printed = run.table(figures)
    assert "timeline" in printed and "sign-in" in printed
