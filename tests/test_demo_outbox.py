"""The demo's first run leaves messages to look at: an invitation, a reminder and an
appointment notice, made by the real services and sent by the (immediate) queue."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from journal.models import Message, User
from tests.conftest import World, committing, create_demo, runtime
from tests.helpers import Browser, mails_to


def test_the_demo_outbox_holds_an_invitation_a_reminder_and_an_appointment_notice(
    app: Flask,
) -> None:
    create_demo(app)
    with runtime(app).database.session() as s:
        kinds = {m.kind for m in s.scalars(select(Message).where(Message.status == "sent"))}
    assert {"invite", "session_notice"} <= kinds
    assert [k for k in kinds if k.startswith("reminder_")]
    (invitation,) = mails_to(app, "riley@demo.example")
    assert "/password/" in invitation
    assert any(
        m.startswith("Hello Jordan") and "appointment" in m
        for m in mails_to(app, "jordan@demo.example")
    )
    with committing(runtime(app)) as db:
        admin_user = db.scalar(select(User).where(User.email == "admin@demo.example"))
        assert admin_user is not None
        World(app, db).enrol_second_factor(admin_user)
    admin = Browser(app)
    admin.sign_in_as(admin_user.id)
    page = admin.text("/admin/messages")
    assert "riley@demo.example" in page and "Sent: 0" not in page
