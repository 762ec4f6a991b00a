"""The command line: first-run set-up, demo clinic, users and courses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from journal.models import Course, Role, User
from tests.conftest import runtime
from tests.helpers import PASSWORD


def _flask(instance: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(instance),
        "JOURNAL_DATABASE_URL": f"sqlite:///{instance / 'journal.sqlite3'}",
    }
    env.pop("JOURNAL_TEST_DATABASE_URL", None)
    for name in ("LC_ALL", "LC_MESSAGES"):  # messages in English, whatever this terminal's
        env.pop(name, None)
    env["LANG"] = "C.UTF-8"
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "journal", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_sets_up_a_fresh_instance_and_is_idempotent(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    first = _flask(instance, "init", "--demo")
    assert first.returncode == 0, first.stderr
    assert "password for every demo account" in first.stdout
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    assert stat.S_IMODE((instance / "keys" / "master.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE((instance / "journal.sqlite3").stat().st_mode) == 0o600
    key_before = (instance / "keys" / "master.json").read_bytes()

    second = _flask(instance, "init", "--demo")
    assert second.returncode == 0, second.stderr
    assert "created" not in second.stdout
    assert (instance / "keys" / "master.json").read_bytes() == key_before


def test_the_app_refuses_to_start_before_init(tmp_path: Path) -> None:
    result = _flask(
        tmp_path / "instance",
        "create-user",
        "--role",
        "admin",
        "--email",
        "a@clinic.example",
        "--name",
        "A",
    )
    assert result.returncode != 0
    assert "flask --app journal init" in result.stderr + result.stdout


def test_create_user_reads_the_password_twice_from_stdin(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--role",
            "clinician",
            "--email",
            "Ana@Clinic.example",
            "--name",
            "Ana Example (test)",
        ],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    with runtime(app).database.session() as db:
        user = db.scalar(select(User).where(User.email == "ana@clinic.example"))
    assert user is not None and user.role == Role.CLINICIAN and not user.must_change_password


def test_create_user_refuses_mismatched_or_weak_passwords(app: Flask) -> None:
    runner = app.test_cli_runner()
    weak = runner.invoke(
        args=["create-user", "--role", "patient", "--email", "p@clinic.example", "--name", "P"],
        input="password\npassword\n",
    )
    assert weak.exit_code != 0
    assert "too common" in weak.output or "at least" in weak.output


def test_create_course_prints_the_new_course_id(app: Flask) -> None:
    runner = app.test_cli_runner()
    for role, email in [("patient", "pat@clinic.example"), ("clinician", "doc@clinic.example")]:
        r = runner.invoke(
            args=["create-user", "--role", role, "--email", email, "--name", email],
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )
        assert r.exit_code == 0, r.output
    result = runner.invoke(
        args=[
            "create-course",
            "--patient",
            "pat@clinic.example",
            "--clinician",
            "doc@clinic.example",
        ]
    )
    assert result.exit_code == 0, result.output
    course_id = uuid.UUID(result.output.strip())
    with runtime(app).database.session() as db:
        assert db.get(Course, course_id) is not None


def test_demo_command_refuses_a_database_with_accounts(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0
