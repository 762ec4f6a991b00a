"""Search words never travel in a URL: the form posts them, an old link with `?q=` does
not search, and a real server's access log holds no query words (security review,
issue: search words in URLs)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from journal.config import PROJECT_ROOT, Settings
from journal.models import Visibility
from tests.conftest import Clinic
from tests.helpers import PASSWORD, csrf_token
from tests.scene import marker, write


def test_an_old_link_with_words_in_it_does_not_search(clinic: Clinic) -> None:
    written = write(clinic.world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="q")
    words = written.versions[0].markers[0]
    b = clinic.world.browser(clinic.patient)
    page = b.text(f"/search?q={words}")
    assert words not in page and "<mark>" not in page
    found = b.search(words)
    assert found.status_code == 200
    assert f"<mark>{words}</mark>" in found.get_data(as_text=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        assert server.poll() is None, "the server stopped"
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer")


@pytest.mark.security_review(finding=5)
def test_search_words_stay_out_of_a_real_servers_access_log(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    written = write(clinic.world, clinic.patient, clinic.course, Visibility.CARE_TEAM, label="q")
    words = written.versions[0].markers[0]
    log = tmp_path / "access.log"
    port = _free_port()
    env = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    command += ["--access-logfile", str(log), "journal:create_app()"]
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz", server)
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

        def post(path: str, data: dict[str, str]) -> str:
            body = urllib.parse.urlencode(data).encode()
            with browser.open(f"{base}{path}", body) as response:
                return str(response.read().decode())

        token = csrf_token(browser.open(f"{base}/login").read().decode())
        post("/login", {"csrf_token": token, "email": clinic.patient.email, "password": PASSWORD})
        token = csrf_token(browser.open(f"{base}/login").read().decode())  # the session's
        page = post("/search", {"csrf_token": token, "q": words})
        assert f"<mark>{words}</mark>" in page  # the search ran and found the entry
        assert words not in browser.open(f"{base}/search?q={marker('x')}").read().decode()
    finally:
        server.terminate()
        server.wait(timeout=10)
    logged = log.read_text()
    assert re.search(r'"POST /search HTTP/1\.1" 200', logged), logged  # the log did record it
    assert words not in logged
