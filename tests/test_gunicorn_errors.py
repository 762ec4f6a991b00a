"""gunicorn's own error answers carry the app's security headers (security review:
gunicorn answers a too-long URL with 414 and a malformed request line with 400 before
the app runs). A real gunicorn, started with the worker class the Makefile and the
deployment guide use, answers through a raw socket."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from journal.config import PROJECT_ROOT, Settings
from tests.conftest import register_keys
from tests.test_headers import check_headers
from tests.test_search_privacy import _free_port, _wait_for

WORKER_CLASS = "journal.serving.SyncWorker"
# What an answer carries that is about the connection or the body, not security.
NOT_SECURITY = frozenset(
    {"content-type", "content-length", "connection", "date", "server", "vary", "set-cookie"}
)


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[int]:
    """The journal under gunicorn on 127.0.0.1, with HTTPS on (so HSTS is sent); its port."""
    register_keys(settings)
    port = _free_port()
    env = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
        "JOURNAL_HTTPS": "true",
        "JOURNAL_BASE_URL": "https://journal.clinic.example",
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", WORKER_CLASS, "journal:create_app()"]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as errors:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stderr=errors)
    try:
        try:
            _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        except AssertionError as exc:
            raise AssertionError(log.read_text()[-3000:]) from exc
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


class Answer(http.client.HTTPResponse):
    body = b""


def send(port: int, raw: bytes) -> Answer:
    """Send bytes as they are, read the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        response = Answer(sock)
        response.begin()
        response.body = response.read()
        return response


def security_headers(response: http.client.HTTPResponse) -> dict[str, str]:
    return {k.lower(): v for k, v in response.getheaders() if k.lower() not in NOT_SECURITY}


@pytest.mark.security_review(finding=10)
def test_gunicorns_own_error_answers_carry_the_apps_security_headers(server: int) -> None:
    own = send(server, b"GET /no/such/page HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert own.status == 404  # the app's own answer
    expected = security_headers(own)
    assert "strict-transport-security" in expected and "cache-control" in expected

    long_url = b"/" + b"a" * 9000
    answers = {
        "414 for a 9,000-character URL": (
            send(server, b"GET " + long_url + b" HTTP/1.1\r\nHost: localhost\r\n\r\n"),
            414,
            "That address is longer than the journal accepts.",
        ),
        "400 for a malformed request line": (
            send(server, b"GET\r\nHost: localhost\r\n\r\n"),
            400,
            "Something in that request was not right",
        ),
        "400 for a request line with no version": (
            send(server, b"GET / NOT-HTTP\r\nHost: localhost\r\n\r\n"),
            400,
            "Something in that request was not right",
        ),
    }
    for what, (response, status, words) in answers.items():
        assert response.status == status, what
        check_headers(response, what)  # the checks the app's own answers pass
        assert security_headers(response) == expected, what
        # The app's own page, as a person's browser shows it; not gunicorn's bare text.
        assert response.getheader("content-type") == "text/html; charset=utf-8", what
        page = response.body.decode()
        assert words in page and '<html lang="en"' in page and "Back to the start" in page, what


def test_every_documented_gunicorn_command_names_the_worker() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    deployment = (PROJECT_ROOT / "docs" / "deployment.md").read_text()
    commands = re.findall(
        r"^.*bin\)?/gunicorn .*$", makefile + deployment, flags=re.MULTILINE | re.IGNORECASE
    )
    assert len(commands) >= 3  # make run, step 5 and the systemd unit
    for command in commands:
        assert f"--worker-class {WORKER_CLASS}" in command, command
        assert "--logger-class journal.serving.RedactingLogger" in command, command
