"""Command-line tools: `flask --app journal init|demo|create-user|create-course`.

`init` is registered as a Flask plugin command (see pyproject.toml) so it runs
before the app can start: the app itself refuses to start without keys.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from journal import keyrotation
from journal.accounts import accounts, audit, courses, invitations
from journal.bootstrap import initialise
from journal.config import ConfigError, Settings, load_settings
from journal.core.actor import Actor
from journal.core.catalogues import Words, terminal_language
from journal.core.errors import ValidationError
from journal.core.labels import N_
from journal.core.queue import IMMEDIATE, QUEUE_FILE
from journal.demo import DemoLogins, create_demo_clinic
from journal.journaling import search_index
from journal.maintenance import backup, restore, retire_backups
from journal.models import Course, Role
from journal.runtime import Runtime, build_runtime

DEMO_LOGINS_FILE = "demo-logins.txt"


@click.command("init")
@click.option("--demo", is_flag=True, help="Also create a demo clinic of fictional people.")
def init_command(demo: bool) -> None:
    """Create the instance folder, keys and database, or upgrade them (idempotent)."""
    settings = None
    try:
        settings = load_settings()
        made = initialise(settings)
        runtime = build_runtime(settings)
    except ConfigError as exc:
        raise click.ClickException(_problem(_words(settings), exc)) from None
    w = _words(settings)
    for item in made:
        click.echo(w(N_("created %(item)s"), item=w(item)))
    click.echo(w(N_("database ready: %(url)s"), url=_safe_url(settings.database_url)))
    logins_file = settings.instance_path / DEMO_LOGINS_FILE
    if demo:
        with runtime.work(write=True) as work:
            logins = create_demo_clinic(
                work,
                runtime.passwords,
                catalogue=runtime.clinical.instruments,
                zone=settings.zone,
            )
        if logins is not None:
            _write_logins(logins_file, logins, w)
    if logins_file.exists():
        click.echo(logins_file.read_text())
    elif not demo:
        click.echo(
            w(N_("No accounts yet? Create the first admin with:"))
            + "\n  "
            + w(
                N_(
                    "flask --app journal create-user --role admin "
                    "--email you@example.org --name 'Your Name'"
                )
            )
        )
    runtime.database.dispose()


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(source: Path) -> None:
    """Restore a database backup into an instance that has its keys but no database
    (SQLite) or an empty one (PostgreSQL)."""
    settings = None
    try:
        settings = load_settings()
        reapplied = restore(settings, source)
        initialise(settings)  # upgrades an older backup and checks the keys match it
        runtime = build_runtime(settings)
    except ConfigError as exc:
        raise click.ClickException(_problem(_words(settings), exc)) from None
    _audit(runtime, "restore", outcome=f"erasures:{reapplied}")
    runtime.database.dispose()
    w = _words(settings)
    click.echo(w(N_("restored %(path)s; erasures re-applied: %(num)s"), path=source, num=reapplied))


def _audit(rt: Runtime, action: str, outcome: str = "ok") -> None:
    """Command-line operations are audited like everything else (no person is signed in)."""
    with rt.work(write=True) as work:
        audit.record(work.db, action, outcome=outcome)


def _words(settings: Settings | None) -> Words:
    """The command line speaks the terminal's language (LC_ALL, LC_MESSAGES, LANG)
    when the clinic offers it, else the clinic's default."""
    return Words(terminal_language(settings, os.environ))


def _problem(w: Words, exc: Exception) -> str:
    """An error's message in the terminal's language: words marked with `N_` where
    it was raised are translated, other text is shown as it is."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{k}: {_said(w, v)}" for k, v in exc.errors.items())
    if len(exc.args) == 1 and isinstance(exc.args[0], str):
        return _said(w, exc.args[0])
    return str(exc)


def _said(w: Words, text: str) -> str:
    return w(text) if text else text  # the catalogue's entry for "" is its header


def _write_logins(path: Path, logins: DemoLogins, w: Words) -> None:
    lines = [w(N_("Demo clinic (fictional people). Sign in with:"))]
    lines += [f"  {role:<10} {email:<24} {name}" for email, name, role in logins.emails]
    lines.append(
        "  " + w(N_("password for every demo account: %(password)s"), password=logins.password)
    )
    lines.append(
        "  " + w(N_("Clinicians and the admin set up two-factor sign-in at their first sign-in"))
    )
    lines.append(
        "  " + w(N_("(any authenticator app: the page shows a QR code and the key as text)."))
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def _safe_url(url: str) -> str:
    return url.split("@")[-1] if "@" in url else url


def _queue_where(rt: Runtime) -> str:
    return rt.settings.queue_url or str(rt.settings.instance_path / QUEUE_FILE)


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["journal"]
    return rt


def register(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Create the demo clinic in an empty database."""
        rt = _runtime()
        w = _words(rt.settings)
        with rt.work(write=True) as work:
            logins = create_demo_clinic(
                work, rt.passwords, catalogue=rt.clinical.instruments, zone=rt.settings.zone
            )
        if logins is None:
            raise click.ClickException(w(N_("the database already has accounts; demo not created")))
        _write_logins(rt.settings.instance_path / DEMO_LOGINS_FILE, logins, w)
        click.echo((rt.settings.instance_path / DEMO_LOGINS_FILE).read_text())

    @app.cli.command("create-user")
    @click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option(
        "--temporary", is_flag=True, help="Make a temporary password to change at first sign-in."
    )
    def create_user_command(role: str, email: str, name: str, temporary: bool) -> None:
        """Create an account; the password is asked twice (or read as two lines from stdin)."""
        rt = _runtime()
        w = _words(rt.settings)
        password = None
        if not temporary:
            password = click.prompt(
                w(N_("Password")), hide_input=True, confirmation_prompt=True, err=True
            )
        with rt.work(write=True) as work:
            try:
                user, temp = accounts.create_user(
                    work.db,
                    rt.passwords,
                    email=email,
                    name=name,
                    role=Role(role),
                    password=password,
                )
            except ValidationError as exc:
                raise click.ClickException(_problem(w, exc)) from None
        click.echo(
            w(
                N_("created %(role)s %(email)s (%(id)s)"),
                role=user.role.value,
                email=user.email,
                id=user.id,
            )
        )
        if temp:
            click.echo(w(N_("temporary password (shown once): %(password)s"), password=temp))

    @app.cli.command("password-link")
    @click.argument("email")
    def password_link_command(email: str) -> None:
        """Print a one-time link for the account to choose its password (audited): for
        the server's operator to pass on in person when e-mail does not work."""
        rt = _runtime()
        w = _words(rt.settings)
        with rt.work(write=True) as work:
            try:
                user, url = invitations.operator_link(work, email)
            except ValidationError as exc:
                raise click.ClickException(_problem(w, exc)) from None
        click.echo(
            w(
                N_("one-time link for %(email)s (pass it on in person): %(url)s"),
                email=user.email,
                url=url,
            )
        )

    @app.cli.command("worker")
    @click.option("--threads", default=2, show_default=True, help="Jobs run at the same time.")
    @click.option(
        "--periodic/--no-periodic",
        default=True,
        help="Run the periodic scans here (with several workers, in one of them only).",
    )
    def worker_command(threads: int, periodic: bool) -> None:
        """Run the task queue's jobs (sending e-mail) and its periodic scan, in the
        foreground until stopped (Ctrl-C, or SIGTERM from the service manager)."""
        rt = _runtime()
        w = _words(rt.settings)
        if rt.settings.queue_url == IMMEDIATE:
            raise click.ClickException(
                w(N_("queue_url is immediate://: jobs run where they are made"))
            )
        click.echo(
            w(
                N_("worker: %(threads)s threads on the queue in %(where)s"),
                threads=threads,
                where=_safe_url(_queue_where(rt)),
            )
        )
        consumer = rt.queue.create_consumer(
            workers=threads, worker_type="thread", periodic=periodic
        )
        consumer.run()

    audit_group = click.Group("audit", help="The audit trail.")
    app.cli.add_command(audit_group)

    @audit_group.command("verify")
    @with_appcontext
    def audit_verify_command() -> None:
        """Check the audit trail's hash chain; exit 1 if any event was changed."""
        rt = _runtime()
        w = _words(rt.settings)
        with rt.work(write=False) as work:
            report = audit.verify_chain(work.db)
        if not report.intact:
            raise click.ClickException(
                w(
                    N_("audit trail BROKEN after %(events)s events: %(problem)s"),
                    events=report.events,
                    problem=_said(w, report.problem),
                )
            )
        click.echo(w(N_("audit trail intact: %(events)s events"), events=report.events))

    @app.cli.command("backup")
    @click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(destination: Path) -> None:
        """Write a consistent copy of the database (SQLite or PostgreSQL) as a SQLite
        file, its data keys sealed with the backup keys (erasing a patient deletes
        theirs); no key is in it."""
        rt = _runtime()
        w = _words(rt.settings)
        try:
            tree = backup(rt.settings, destination)
        except ConfigError as exc:
            raise click.ClickException(_problem(w, exc)) from None
        _audit(rt, "backup")
        click.echo(
            w(
                N_(
                    "backup written to %(path)s; its data keys are sealed with the backup "
                    "keys %(tree)s of the key folder, which is backed up separately"
                ),
                path=destination,
                tree=tree,
            )
        )

    keys_group = click.Group("keys", help="Master and data keys: rotate and verify.")
    app.cli.add_command(keys_group)

    @keys_group.command("rotate-master")
    @with_appcontext
    def rotate_master_command() -> None:
        """Re-wrap every data key with a new master key (run again to resume)."""
        rt = _runtime()
        w = _words(rt.settings)
        if rt.settings.key_propagation_seconds:
            click.echo(
                w(
                    N_(
                        "waiting %(seconds)s s (key_propagation_seconds) "
                        "for every server to see the new key before re-wrapping"
                    ),
                    seconds=str(rt.settings.key_propagation_seconds),
                )
            )
        result = keyrotation.rotate_master_key(rt.settings, rt.database)
        _audit(rt, "keys.rotate_master")
        if result.retired:
            done = N_(
                "master key %(key)s is active; %(num)s data keys re-wrapped; "
                "retired: %(retired)s. Back up the key folder %(folder)s now."
            )
        else:
            done = N_(
                "master key %(key)s is active; %(num)s data keys re-wrapped; "
                "retired: none. Back up the key folder %(folder)s now."
            )
        click.echo(
            w(
                done,
                key=result.active_id,
                num=result.rewrapped,
                retired=", ".join(result.retired),
                folder=rt.settings.key_folder,
            )
        )

    @keys_group.command("rotate-data")
    @click.option("--patient", "email", default=None, help="Only this person's key.")
    @click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=keyrotation.WORKERS,
        show_default=True,
        help="Processes re-encrypting at once.",
    )
    @with_appcontext
    def rotate_data_command(email: str | None, workers: int) -> None:
        """Give owners new data keys and re-encrypt their data (run again to resume)."""
        rt = _runtime()
        w = _words(rt.settings)
        owners = None
        if email:
            with rt.work(write=False) as work:
                user = accounts.find_user_by_email(work.db, email)
            if user is None:
                raise click.ClickException(w(N_("no account %(email)s"), email=email))
            owners = [user.id]
        result = keyrotation.rotate_data_keys(rt.database, rt.ring, owners, workers=workers)
        _audit(rt, "keys.rotate_data")
        click.echo(
            w(
                N_("%(owners)s owners: %(values)s values re-encrypted, %(keys)s old keys deleted"),
                owners=result.owners,
                values=result.reencrypted,
                keys=result.deleted_keys,
            )
        )

    @keys_group.command("retire-backups")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @with_appcontext
    def retire_backups_command(yes: bool) -> None:
        """New backup keys: no backup taken so far can be restored with this key folder."""
        rt = _runtime()
        w = _words(rt.settings)
        if not yes:
            click.confirm(
                w(N_("No backup taken so far will open with this key folder any more. Go on?")),
                abort=True,
            )
        try:
            keys = retire_backups(rt.settings)
        except ConfigError as exc:
            raise click.ClickException(_problem(w, exc)) from None
        _audit(rt, "keys.retire_backups")
        click.echo(
            w(
                N_(
                    "backup keys %(tree)s in use; earlier backups no longer open. "
                    "Take a backup and back up instance/keys/ now."
                ),
                tree=keys.tree_id,
            )
        )

    @keys_group.command("verify")
    @with_appcontext
    def keys_verify_command() -> None:
        """Decrypt everything; list failures by table, row and column."""
        rt = _runtime()
        w = _words(rt.settings)
        checked, failures = keyrotation.verify_all(rt.database, rt.ring)
        for f in failures:
            click.echo(
                w(
                    N_("FAILED %(table)s %(row)s %(column)s: %(reason)s"),
                    table=f.table,
                    row=f.row_id,
                    column=f.column,
                    reason=f.reason,
                )
            )
        if failures:
            raise click.ClickException(
                w(
                    N_("%(failed)s of %(checked)s values failed to decrypt"),
                    failed=len(failures),
                    checked=checked,
                )
            )
        click.echo(w(N_("all %(checked)s encrypted values decrypt"), checked=checked))

    index_group = click.Group("search-index", help="The sealed search index of each course.")
    app.cli.add_command(index_group)

    @index_group.command("rebuild")
    @click.option(
        "--missing", is_flag=True, help="Only courses with entries the index does not hold."
    )
    @with_appcontext
    def search_index_rebuild_command(missing: bool) -> None:
        """Build the index of every course again (or only what it is missing)."""
        rt = _runtime()
        w = _words(rt.settings)
        with rt.work(write=True) as work:
            if missing:
                chosen = search_index.unindexed_courses(work.db)
                count = search_index.index_missing(work.db, work.vault, chosen)
            else:
                chosen = list(work.db.scalars(select(Course.id)))
                count = sum(
                    search_index.rebuild_course_index(work.db, work.vault, c) for c in chosen
                )
        click.echo(
            w(
                N_("%(count)s entries indexed in %(courses)s courses"),
                count=count,
                courses=len(chosen),
            )
        )

    @app.cli.command("create-course")
    @click.option("--patient", "patient_email", required=True)
    @click.option("--clinician", "clinician_emails", multiple=True, required=True)
    @click.option("--start", "started_on", type=click.DateTime(["%Y-%m-%d"]), default=None)
    @click.option("--indication", default="")
    def create_course_command(
        patient_email: str,
        clinician_emails: tuple[str, ...],
        started_on: datetime | None,
        indication: str,
    ) -> None:
        """Open a course for a patient with a care team; prints the course id."""
        rt = _runtime()
        w = _words(rt.settings)
        start = started_on.date() if started_on else date.today()
        with rt.work(write=True) as work:
            first = accounts.find_user_by_email(work.db, clinician_emails[0], Role.CLINICIAN)
            if first is None:
                raise click.ClickException(
                    w(N_("no clinician account %(email)s"), email=clinician_emails[0])
                )
            patient = accounts.find_user_by_email(work.db, patient_email, Role.PATIENT)
            if patient is not None:  # the operator acts as the clinic's intake
                invitations.refer(work, patient, first, operator=True)
            try:
                course = courses.create_course(
                    work.acting_as(Actor(first)),
                    patient_email=patient_email,
                    clinician_emails=list(clinician_emails),
                    started_on=start,
                    indication=indication,
                )
            except ValidationError as exc:
                raise click.ClickException(_problem(w, exc)) from None
        click.echo(str(course.id))
