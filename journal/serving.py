"""gunicorn's sync worker, with the app's headers and pages on gunicorn's own error answers.

gunicorn answers some requests itself, before the app sees them: a request line
over its length limit (414), a malformed request line, method, version or header
(400), a body it cannot read. Those answers come from the worker's `handle_error`,
which knows nothing of the app's headers or pages. This worker leaves gunicorn to
decide the status of such an answer, as usual; for the ones a person can meet (400,
414, 431) it sends the app's own error page instead of gunicorn's bare text, and it
adds to every such answer the headers the app puts on every answer of its own
(Content-Security-Policy, X-Frame-Options, `no-store` and the rest, and HSTS when
HTTPS is on). Those headers are taken from the app's own response processing, once
per worker, so they are defined in one place: `journal.web.security`.

It also refuses to boot with several workers while the rate-limit counts are kept in
memory (`journal.web.throttle.check_workers`): gunicorn tells the worker how many
there are, the app has no way to know.

Serve with `gunicorn --worker-class journal.serving.SyncWorker 'journal:create_app()'`.
"""

from __future__ import annotations

import re
import socket
from typing import Any

from flask import Flask
from gunicorn.glogging import Logger as GunicornLogger  # type: ignore[import-untyped]
from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker  # type: ignore[import-untyped]

from journal.web.errors import standalone_page
from journal.web.throttle import check_workers

# gunicorn's answers that a person's browser can meet, shown as the app's own pages.
OWN_PAGES = (400, 414, 431)

# Not copied onto an error answer: gunicorn writes its own body, type and length, and
# an answer the app never saw sets no cookie.
NOT_COPIED = frozenset({"content-type", "content-length", "set-cookie", "vary"})


def app_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers the app's response processing adds to an answer of its own."""
    with app.test_request_context("/"):
        response = app.response_class()
        bare = {name.lower() for name, _ in response.headers.items()}
        processed = app.process_response(response)
    return [
        (name, value)
        for name, value in processed.headers.items()
        if name.lower() not in bare and name.lower() not in NOT_COPIED
    ]


class _WithHeaders:
    """The client's socket as gunicorn's error writer sees it: the answer it writes gets
    the extra header lines right after its status line, and the app's own page in
    place of gunicorn's when there is one for the status."""

    def __init__(self, sock: socket.socket, lines: bytes, pages: dict[int, bytes]) -> None:
        self._sock = sock
        self._lines = lines
        self._pages = pages
        self._started = False

    def sendall(self, data: bytes) -> None:
        if not self._started:
            self._started = True
            status, end, rest = data.partition(b"\r\n")
            if end and status.startswith(b"HTTP/"):
                page = self._pages.get(_status_code(status))
                if page is not None:
                    rest = (
                        b"Connection: close\r\nContent-Type: text/html; charset=utf-8\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(page), page)
                    )
                data = status + end + self._lines + rest
        self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _status_code(status_line: bytes) -> int:
    parts = status_line.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


class SyncWorker(GunicornSyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker; its own error answers carry the app's headers and pages."""

    header_lines = b""
    pages: dict[int, bytes] = {}  # noqa: RUF012 (set once per worker in load_wsgi)

    def load_wsgi(self) -> None:
        super().load_wsgi()
        if not isinstance(self.wsgi, Flask):
            raise TypeError(f"{type(self).__name__} serves a Flask app, not {self.wsgi!r}")
        # The app cannot see how many workers gunicorn runs; the worker can.
        check_workers(self.wsgi, self.cfg.workers)
        lines = "".join(f"{name}: {value}\r\n" for name, value in app_headers(self.wsgi))
        self.header_lines = lines.encode("latin-1")
        self.pages = {s: standalone_page(self.wsgi, s).encode() for s in OWN_PAGES}

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        wrapped = _WithHeaders(client, self.header_lines, self.pages)
        super().handle_error(req, wrapped, addr, exc)


# Paths whose last part is a secret: a one-time password link, a reminder's
# "no more of these" link. The access log keeps the page, never the secret.
SECRET_PATHS = re.compile(r"(/password/|/reminders/off/)[^/?\s]+")


def redact(text: str) -> str:
    return SECRET_PATHS.sub(r"\1[secret]", text)


class RedactingLogger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger; the access log holds no link's secret.

    Serve with `--logger-class journal.serving.RedactingLogger`."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        found: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f", "{referer}i"):
            if isinstance(found.get(name), str):
                found[name] = redact(found[name])
        return found
