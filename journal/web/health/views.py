from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from journal.core.errors import KeyFileError
from journal.core.keys import health
from journal.web import context

bp = Blueprint("health", __name__)
log = logging.getLogger("journal.health")


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    rt = context.runtime()
    try:
        with rt.database.session() as db:
            body = health(db, rt.ring)
    except (SQLAlchemyError, KeyFileError) as exc:
        log.error("health check failed: %s", type(exc).__name__)
        return jsonify(status="unavailable"), 503
    return jsonify(body), 200
