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
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
MIN_SECRET_KEY_CHARS = 32


class ConfigError(Exception):
    """The app cannot start with the settings it was given."""


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost; tests pass cheap values, production keeps the defaults."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 2


# Shown to a patient whose answers raise a safety flag; each clinic sets its own
# (`crisis_resources` in instance/config.toml, or JOURNAL_CRISIS_RESOURCES).
DEFAULT_CRISIS_RESOURCES = (
    "If you are in danger or thinking about ending your life, call your local "
    "emergency number now, or go to the nearest emergency department."
)


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    master_key_path: Path
    secret_key_path: Path
    clinic_name: str = "KAP journal"
    crisis_resources: str = DEFAULT_CRISIS_RESOURCES
    timezone: str = "UTC"
    max_request_bytes: int = 1024 * 1024
    https: bool = False
    trusted_proxies: int = 0
    ratelimit_storage_uri: str = "memory://"
    ratelimit_key_prefix: str = "journal"
    argon2: Argon2Params = field(default_factory=Argon2Params)
    testing: bool = False
    development: bool = False  # allows Flask's debug mode; never on a real install

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def read_secret_key(self) -> str:
        """The Flask signing key, from its own file; refuse if missing or weak."""
        path = self.secret_key_path
        if not path.exists():
            raise ConfigError(f"secret key file {path} is missing; run 'flask --app journal init'")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"secret key file {path} has permissions {mode:o}; it must be 600")
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_KEY_CHARS:
            raise ConfigError(f"secret key in {path} is too short")
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
        master_key_path=Path(pick("master_key_file", str(instance / "keys" / "master.json"))),
        secret_key_path=Path(pick("secret_key_file", str(instance / "secret_key"))),
        clinic_name=pick("clinic_name", "KAP journal"),
        crisis_resources=pick("crisis_resources", DEFAULT_CRISIS_RESOURCES),
        timezone=pick("timezone", "UTC"),
        https=pick("https", "false").lower() in {"1", "true", "yes"},
        trusted_proxies=_int(pick("trusted_proxies", "0"), "trusted_proxies"),
        ratelimit_storage_uri=pick("ratelimit_storage_uri", "memory://"),
        ratelimit_key_prefix=pick("ratelimit_key_prefix", "journal"),
        development=pick("development", "false").lower() in {"1", "true", "yes"},
    )
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown timezone {settings.timezone!r}") from None
    if not settings.database_url.startswith(("sqlite:///", "postgresql")):
        raise ConfigError("database_url must be a sqlite:/// or postgresql URL")


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
