"""Typed settings, read from the instance folder and the environment.

Nothing here falls back to a built-in secret: without a secret key file and a
master key file the app refuses to start and says what to run.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many

from journal import crisis
from journal.core.labels import N_
from journal.crisis import DEFAULT_CRISIS_RESOURCES, CrisisLine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
MIN_SECRET_KEY_CHARS = 32
# Forms one signed-in person may send (Flask-Limiter's notation): more than a person
# types, less than a script sends. "off" is for benchmarks, which write as fast as they can.
DEFAULT_WRITE_LIMIT = "60 per minute;1000 per day"
WRITE_LIMIT_OFF = "off"


class ConfigError(Exception):
    """The app cannot start with the settings it was given."""


@dataclass(frozen=True)
class DoseRange:
    """A clinic's usual dose range for one route, in mg or mg/kg (setting
    `dose_range_<route>`, "0.5-1.0 mg/kg"): a dose outside it is saved with a notice."""

    route: str
    low: Decimal
    high: Decimal
    unit: str  # "mg" or "mg_per_kg"

    @property
    def words(self) -> str:
        return f"{self.low} to {self.high} {'mg/kg' if self.unit == 'mg_per_kg' else 'mg'}"


# The session record's lists and dose ranges (docs/clinical-content.md gives the
# sources of the ranges); a clinic sets its own in config.toml. The default names are
# marked, so each reader sees them in their language; a clinic's own read as written.
DEFAULT_DRUGS = (N_("Racemic ketamine"), N_("Esketamine"))
DEFAULT_MODALITIES = (N_("In clinic"), N_("At home with a support person"))
DEFAULT_DOSE_RANGES = {
    "intravenous": "0.5-1.0 mg/kg",
    "intramuscular": "0.5-1.0 mg/kg",
    "intranasal": "28-84 mg",
    "sublingual": "50-500 mg",
    "oral": "50-500 mg",
}


# The languages the journal has catalogues for (journal/translations), by code, with
# their names as their speakers write them.
LANGUAGES = {"en": "English", "fr": "Français"}


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost; tests pass cheap values, production keeps the defaults."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 2


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    master_key_path: Path
    secret_key_path: Path
    clinic_name: str = "KAP journal"
    # The languages pages are offered in (journal/web/i18n.py), and the one used when
    # neither the person's setting nor their browser picks one of them.
    languages: tuple[str, ...] = ("en", "fr")
    default_language: str = "en"
    crisis_resources: str = DEFAULT_CRISIS_RESOURCES  # journal/crisis.py
    # Get help now (/help): empty means the shipped default (journal/crisis.py).
    crisis_locale: str = ""  # "us", "fr", "qc" or one of crisis_lines; empty: "us"
    crisis_lines: tuple[CrisisLine, ...] = ()  # the clinic's own, by locale
    emergency_number: str = ""  # empty: the locale's (911, 112)
    # Blood-pressure thresholds of the dosing-session record (journal/clinical/vitals.py):
    # a reading at or above either number of a pair, or a post-dose number risen by
    # bp_rise_percent or more over the pre-dose one, raises a safety flag.
    bp_pre_dose_systolic: int = 140
    bp_pre_dose_diastolic: int = 90
    bp_any_systolic: int = 180
    bp_any_diastolic: int = 110
    bp_rise_percent: int = 20
    # The dosing-session record (journal/clinical/dose.py): the drugs and modalities a
    # record chooses from, the usual dose range per route (a dose outside it is saved
    # with a notice) and the one rule for what is refused: above dose_refuse_mg, or
    # with a weight above dose_refuse_mg_per_kg, whichever unit was typed.
    record_drugs: tuple[str, ...] = DEFAULT_DRUGS
    record_modalities: tuple[str, ...] = DEFAULT_MODALITIES
    dose_ranges: tuple[DoseRange, ...] = ()  # empty: DEFAULT_DOSE_RANGES
    dose_refuse_mg_per_kg: Decimal = Decimal("20")
    dose_refuse_mg: Decimal = Decimal("2000")
    timezone: str = "UTC"
    max_request_bytes: int = 1024 * 1024
    https: bool = False
    trusted_proxies: int = 0
    ratelimit_storage_uri: str = "memory://"
    ratelimit_key_prefix: str = "journal"
    # How long a change to the key file takes to reach every server that reads it (the
    # key folder on storage several servers mount): a master-key rotation waits this
    # long before re-wrapping (journal/keyrotation.py). 0: one server, or a mount
    # without attribute caching.
    key_propagation_seconds: int = 0
    write_limit: str = DEFAULT_WRITE_LIMIT
    argon2: Argon2Params = field(default_factory=Argon2Params)
    # The address people reach the journal at: links in e-mails are built from it,
    # never from a request's Host header (which an attacker chooses).
    base_url: str = "http://127.0.0.1:5000"
    mail_from: str = "KAP journal <journal@localhost>"
    smtp_host: str = ""  # empty: messages are kept in instance/outbox/
    smtp_port: int = 587
    smtp_security: str = "starttls"  # or "tls" (implicit TLS, port 465) or "none"
    smtp_user: str = ""
    smtp_password: str = ""
    # Who agrees before the admin's proposed clinician joins an existing care team.
    care_team_consent: str = "clinician"  # or "patient"
    invitation_hours: int = 72  # how long an invitation's link works
    # The task queue: empty for a SQLite file in the instance, or a Redis URL.
    queue_url: str = ""
    mail_retry_seconds: int = 30  # the first wait after a failed send; each next one doubles
    # Safety alerts: repeated while a flag is open, then to the clinic's safety contact.
    alert_repeat_minutes: int = 60
    alert_escalate_minutes: int = 240
    safety_contact: str = ""  # an e-mail address; empty: no escalation
    # Reminders: hours before a session, hours after its start, days after it.
    reminder_prep_hours: int = 24
    reminder_capture_hours: int = 3
    reminder_days: tuple[int, ...] = (1, 3, 7)
    # An entry its writer deletes: its words are kept (sealed, read by no one, restorable
    # by the writer) this many days, then erased; its tombstone stays. 0: erased at once.
    deleted_entry_days: int = 30
    scan_minutes: int = 5  # the worker looks for reminders and digests due this often
    # Questionnaires (journal/clinical/questionnaires.py): "before each session" opens this
    # many hours before it; a session ends this long after its start (or when marked
    # completed); "after each session" stays open this many hours after its end.
    questionnaire_window_hours: int = 72
    session_length_hours: int = 3
    questionnaire_after_hours: int = 72
    # The exported PDF's paper, the export form's default: "a4" or "letter".
    pdf_page_size: str = "a4"
    # A PDF whose data is larger than this (KB) is made by the worker while the page shows
    # its progress (the 1,000-entry course: some 1,200 KB and 2 s); 0: every PDF.
    pdf_queue_above_kb: int = 400
    pdf_keep_minutes: int = 15  # how long a PDF the worker made waits, sealed, to be fetched
    # Clinical lists a clinic keeps as TOML files, paths inside the instance folder
    # (journal/clinical/checklist.py, checked at start-up): items added to the
    # screening checklist; the consent record's checkboxes (empty: the shipped ones).
    screening_extra_file: str = ""
    consent_items_file: str = ""
    testing: bool = False
    development: bool = False  # allows Flask's debug mode; never on a real install

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def key_folder(self) -> Path:
        """The folder of the master key file, the backup keys and the erasure ledger:
        `instance/keys` on one server, storage every app server mounts on several."""
        return self.master_key_path.parent

    def instance_file(self, name: str) -> Path | None:
        """A setting's file, inside the instance folder unless given in full; None if unset."""
        if not name.strip():
            return None
        path = Path(name.strip())
        return path if path.is_absolute() else self.instance_path / path

    def read_secret_key(self) -> str:
        """The Flask signing key, from its own file; refuse if missing or weak."""
        path = self.secret_key_path
        if not path.exists():
            raise ConfigError(
                N_(
                    "secret key file %(path)s is missing; run 'flask --app journal init'",
                    path=path,
                )
            )
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                N_(
                    "secret key file %(path)s has permissions %(mode)s; it must be 600",
                    path=path,
                    mode=f"{mode:o}",
                )
            )
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_KEY_CHARS:
            raise ConfigError(N_("secret key in %(path)s is too short", path=path))
        return key


def load_settings(
    instance_path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from `instance/config.toml` (optional) and JOURNAL_* variables."""
    env = os.environ if environ is None else environ
    instance = Path(env.get("JOURNAL_INSTANCE_PATH") or instance_path or DEFAULT_INSTANCE)
    file_values = _read_config_file(instance / "config.toml")

    def pick(name: str, default: str) -> str:
        return str(env.get(f"JOURNAL_{name.upper()}") or file_values.get(name) or default)

    settings = Settings(
        instance_path=instance,
        database_url=pick("database_url", f"sqlite:///{instance / 'journal.sqlite3'}"),
        master_key_path=_master_key_path(
            pick("key_folder", ""), pick("master_key_file", ""), instance
        ),
        secret_key_path=Path(pick("secret_key_file", str(instance / "secret_key"))),
        clinic_name=pick("clinic_name", "KAP journal"),
        languages=tuple(
            n.strip().lower() for n in _names(env, file_values, "languages", ("en", "fr"))
        ),
        default_language=pick("default_language", "en").strip().lower(),
        crisis_resources=pick("crisis_resources", DEFAULT_CRISIS_RESOURCES),
        crisis_locale=pick("crisis_locale", "").strip().lower(),
        crisis_lines=_crisis_lines(file_values.get("crisis_lines"), pick("crisis_locale", "")),
        emergency_number=pick("emergency_number", "").strip(),
        bp_pre_dose_systolic=_int(pick("bp_pre_dose_systolic", "140"), "bp_pre_dose_systolic"),
        bp_pre_dose_diastolic=_int(pick("bp_pre_dose_diastolic", "90"), "bp_pre_dose_diastolic"),
        bp_any_systolic=_int(pick("bp_any_systolic", "180"), "bp_any_systolic"),
        bp_any_diastolic=_int(pick("bp_any_diastolic", "110"), "bp_any_diastolic"),
        bp_rise_percent=_int(pick("bp_rise_percent", "20"), "bp_rise_percent"),
        record_drugs=_names(env, file_values, "record_drugs", DEFAULT_DRUGS),
        record_modalities=_names(env, file_values, "record_modalities", DEFAULT_MODALITIES),
        dose_ranges=tuple(
            parse_dose_range(route, pick(f"dose_range_{route}", default))
            for route, default in DEFAULT_DOSE_RANGES.items()
        ),
        dose_refuse_mg_per_kg=_dose(pick("dose_refuse_mg_per_kg", "20"), "dose_refuse_mg_per_kg"),
        dose_refuse_mg=_dose(pick("dose_refuse_mg", "2000"), "dose_refuse_mg"),
        timezone=pick("timezone", "UTC"),
        https=pick("https", "false").lower() in {"1", "true", "yes"},
        trusted_proxies=_int(pick("trusted_proxies", "0"), "trusted_proxies"),
        ratelimit_storage_uri=pick("ratelimit_storage_uri", "memory://"),
        ratelimit_key_prefix=pick("ratelimit_key_prefix", "journal"),
        key_propagation_seconds=_not_negative(
            _int(pick("key_propagation_seconds", "0"), "key_propagation_seconds"),
            "key_propagation_seconds",
        ),
        write_limit=pick("write_limit", DEFAULT_WRITE_LIMIT),
        development=pick("development", "false").lower() in {"1", "true", "yes"},
        pdf_page_size=pick("pdf_page_size", "a4").strip().lower(),
        pdf_queue_above_kb=_int(pick("pdf_queue_above_kb", "400"), "pdf_queue_above_kb"),
        pdf_keep_minutes=_int(pick("pdf_keep_minutes", "15"), "pdf_keep_minutes"),
        screening_extra_file=pick("screening_extra_file", ""),
        consent_items_file=pick("consent_items_file", ""),
        base_url=pick("base_url", "http://127.0.0.1:5000").rstrip("/"),
        mail_from=pick("mail_from", "KAP journal <journal@localhost>"),
        smtp_host=pick("smtp_host", ""),
        smtp_port=_int(pick("smtp_port", "587"), "smtp_port"),
        smtp_security=pick("smtp_security", "starttls"),
        smtp_user=pick("smtp_user", ""),
        smtp_password=pick("smtp_password", ""),
        care_team_consent=pick("care_team_consent", "clinician"),
        invitation_hours=_int(pick("invitation_hours", "72"), "invitation_hours"),
        queue_url=pick("queue_url", ""),
        mail_retry_seconds=_int(pick("mail_retry_seconds", "30"), "mail_retry_seconds"),
        alert_repeat_minutes=_int(pick("alert_repeat_minutes", "60"), "alert_repeat_minutes"),
        alert_escalate_minutes=_int(
            pick("alert_escalate_minutes", "240"), "alert_escalate_minutes"
        ),
        safety_contact=pick("safety_contact", ""),
        reminder_prep_hours=_int(pick("reminder_prep_hours", "24"), "reminder_prep_hours"),
        reminder_capture_hours=_int(pick("reminder_capture_hours", "3"), "reminder_capture_hours"),
        reminder_days=_days(pick("reminder_days", "1,3,7")),
        deleted_entry_days=_not_negative(
            _int(pick("deleted_entry_days", "30"), "deleted_entry_days"), "deleted_entry_days"
        ),
        scan_minutes=_int(pick("scan_minutes", "5"), "scan_minutes"),
        questionnaire_window_hours=_int(
            pick("questionnaire_window_hours", "72"), "questionnaire_window_hours"
        ),
        session_length_hours=_int(pick("session_length_hours", "3"), "session_length_hours"),
        questionnaire_after_hours=_int(
            pick("questionnaire_after_hours", "72"), "questionnaire_after_hours"
        ),
    )
    validate(settings)
    return settings


def _master_key_path(folder: str, file: str, instance: Path) -> Path:
    """The master key file: `master_key_file` if set, else master.json in `key_folder`
    (by default instance/keys). Both set: the file must be in that folder, which holds
    the backup keys and the erasure ledger beside it."""
    if not file:
        return Path(folder or instance / "keys") / "master.json"
    path = Path(file)
    if folder and path.parent != Path(folder):
        raise ConfigError(
            N_(
                "master_key_file %(path)s is not in key_folder %(folder)s: the backup keys and "
                "the erasure ledger live beside the master key file; set one of the two",
                path=path,
                folder=folder,
            )
        )
    return path


def validate(settings: Settings) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(N_("unknown timezone %(zone)s", zone=repr(settings.timezone))) from None
    if not settings.database_url.startswith(("sqlite:///", "postgresql")):
        raise ConfigError(N_("database_url must be a sqlite:/// or postgresql URL"))
    if not settings.base_url.startswith(("https://", "http://")):
        raise ConfigError(N_("base_url must start with https:// (or http:// on a trial install)"))
    if settings.smtp_security not in {"starttls", "tls", "none"}:
        raise ConfigError(N_("smtp_security must be starttls, tls or none"))
    if settings.smtp_security == "none" and settings.smtp_user:
        raise ConfigError(
            N_("smtp_security none would send smtp_password in clear: use starttls or tls")
        )
    if settings.https and not settings.base_url.startswith("https://"):
        raise ConfigError(N_("https is on: set base_url to the journal's https:// address"))
    for name in (
        "invitation_hours",
        "mail_retry_seconds",
        "alert_repeat_minutes",
        "alert_escalate_minutes",
        "reminder_prep_hours",
        "reminder_capture_hours",
        "scan_minutes",
        "questionnaire_window_hours",
        "session_length_hours",
        "questionnaire_after_hours",
        "pdf_keep_minutes",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(N_("%(name)s must be at least 1", name=name))
    unknown = [n for n in settings.languages if n not in LANGUAGES]
    if unknown or not settings.languages:
        raise ConfigError(
            N_(
                "languages must list some of %(known)s; unknown: %(unknown)s",
                known=", ".join(LANGUAGES),
                unknown=", ".join(unknown),
            )
        )
    if settings.default_language not in settings.languages:
        raise ConfigError(N_("default_language must be one of languages"))
    if settings.pdf_page_size not in {"a4", "letter"}:
        raise ConfigError(N_("pdf_page_size must be a4 or letter"))
    if settings.pdf_queue_above_kb < 0:
        raise ConfigError(N_("pdf_queue_above_kb must be 0 (every PDF on the worker) or more"))
    if settings.care_team_consent not in {"clinician", "patient"}:
        raise ConfigError(N_("care_team_consent must be clinician or patient"))
    if settings.trusted_proxies < 0:
        raise ConfigError(N_("trusted_proxies is the number of proxies in front: 0 or more"))
    bp_problem = _bp_problem(settings)
    if bp_problem:
        raise ConfigError(bp_problem)
    for name in ("record_drugs", "record_modalities"):
        names = getattr(settings, name)
        if not names or any(not n.strip() or len(n) > 100 for n in names):
            raise ConfigError(
                N_("%(name)s must list one or more names of up to 100 characters", name=name)
            )
    crisis_problem = crisis.problem(
        settings.crisis_locale, settings.crisis_lines, settings.emergency_number
    )
    if crisis_problem:
        raise ConfigError(crisis_problem)
    if settings.write_limit != WRITE_LIMIT_OFF:
        try:
            parse_many(settings.write_limit)
        except ValueError:
            raise ConfigError(
                N_(
                    "write_limit %(value)s is not a limit such as "
                    "'60 per minute;1000 per day' (or 'off')",
                    value=repr(settings.write_limit),
                )
            ) from None


# The blood-pressure thresholds a clinic may set: within what a reading can be.
BP_SYSTOLIC_SETTING = (60, 300)
BP_DIASTOLIC_SETTING = (30, 200)
BP_RISE_SETTING = (1, 100)


def _bp_problem(settings: Settings) -> str | None:
    bounds = {
        "bp_pre_dose_systolic": BP_SYSTOLIC_SETTING,
        "bp_any_systolic": BP_SYSTOLIC_SETTING,
        "bp_pre_dose_diastolic": BP_DIASTOLIC_SETTING,
        "bp_any_diastolic": BP_DIASTOLIC_SETTING,
        "bp_rise_percent": BP_RISE_SETTING,
    }
    for name, (low, high) in bounds.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            return N_(
                "%(name)s must be from %(low)s to %(high)s, not %(value)s",
                name=name,
                low=str(low),
                high=str(high),
                value=str(value),
            )
    return None


def _names(
    env: Mapping[str, str], file_values: dict[str, Any], name: str, default: tuple[str, ...]
) -> tuple[str, ...]:
    """A list of names: a TOML list in config.toml, or "a; b" in JOURNAL_<NAME>."""
    raw: Any = env.get(f"JOURNAL_{name.upper()}") or file_values.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, str):
        raw = raw.split(";")
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise ConfigError(N_('%(name)s must be a list of names, such as ["In clinic"]', name=name))
    return tuple(n.strip() for n in raw if n.strip())


def _dose(value: str, name: str) -> Decimal:
    try:
        dose = Decimal(value.strip())
    except InvalidOperation:
        dose = Decimal(0)
    if not dose.is_finite() or dose <= 0:
        raise ConfigError(
            N_("%(name)s must be a number above zero, not %(value)s", name=name, value=repr(value))
        )
    return dose


def parse_dose_range(route: str, value: str) -> DoseRange:
    """ "0.5-1.0 mg/kg" or "28-84 mg"."""
    name = f"dose_range_{route}"
    amounts, _, unit = value.strip().partition(" ")
    low_text, _, high_text = amounts.partition("-")
    units = {"mg": "mg", "mg/kg": "mg_per_kg"}
    if unit.strip() not in units or not high_text:
        raise ConfigError(
            N_(
                "%(name)s must be a range such as 0.5-1.0 mg/kg or 28-84 mg, not %(value)s",
                name=name,
                value=repr(value),
            )
        )
    low, high = _dose(low_text, name), _dose(high_text, name)
    if low > high:
        raise ConfigError(
            N_(
                "%(name)s: the lower number must come first, not %(value)s",
                name=name,
                value=repr(value),
            )
        )
    return DoseRange(route, low, high, units[unit.strip()])


def _days(value: str) -> tuple[int, ...]:
    """Days after a session, as "1,3,7"."""
    try:
        days = tuple(sorted({int(d) for d in value.replace(" ", "").split(",") if d}))
    except ValueError:
        raise ConfigError(
            N_("reminder_days must be whole numbers like 1,3,7, not %(value)s", value=repr(value))
        ) from None
    if not days or days[0] < 1 or days[-1] > 60:
        raise ConfigError(N_("reminder_days must be days 1 to 60 after a session"))
    return days


def _not_negative(value: int, name: str) -> int:
    if value < 0:
        raise ConfigError(
            N_("%(name)s must be 0 or more, not %(value)s", name=name, value=str(value))
        )
    return value


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(
            N_("%(name)s must be a whole number, not %(value)s", name=name, value=repr(value))
        ) from None


def _crisis_lines(raw: Any, locale: str) -> tuple[CrisisLine, ...]:
    try:
        return crisis.parse_lines(raw, locale.strip().lower())
    except crisis.CrisisSettingError as exc:
        problem = exc.args[0] if len(exc.args) == 1 else str(exc)  # marked words kept
        raise ConfigError(N_("crisis_lines: %(problem)s", problem=problem)) from None


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
