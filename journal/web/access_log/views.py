from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request

from journal.models import Role
from journal.review import access_log
from journal.web import context
from journal.web.security import roles

bp = Blueprint("access_log", __name__)


@bp.get("/account/access-log")
@roles(Role.PATIENT)
def page() -> str:
    before = None
    raw = request.args.get("before", "")
    if raw:
        try:
            before = datetime.fromisoformat(raw)
        except ValueError:
            before = None
        if before is not None and before.tzinfo is None:
            before = None
    rows = access_log.access_log(context.work(), before=before)
    return render_template("access_log/page.html", rows=rows, limit=access_log.LIMIT)
