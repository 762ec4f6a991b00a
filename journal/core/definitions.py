"""Reading clinical content kept as data: TOML files checked field by field.

Questionnaires, the prompt library and the screening checklist live in TOML
files a clinic can read and extend. Every reader here fails with a
`DefinitionError` that names the file and what is wrong with it, so that a
broken file stops start-up with a message a person can act on.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CONTENT_ROOT = Path(__file__).resolve().parent.parent
"""The `journal/` package folder; the shipped definition folders live in it."""

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class DefinitionError(Exception):
    """A definition file is missing, unreadable or inconsistent."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(path, f"cannot be read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(path, f"is not valid TOML ({exc})") from None


def definition_files(folder: Path) -> list[Path]:
    """The `*.toml` files of a folder in name order; none if the folder does not exist."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix == ".toml" and p.is_file())


class Fields:
    """Typed access to one TOML table, raising `DefinitionError` naming the file and key."""

    def __init__(self, path: Path, table: Mapping[str, Any], where: str = "") -> None:
        self.path = path
        self.table = table
        self.where = where

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, problem: str) -> DefinitionError:
        return DefinitionError(self.path, problem)

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.table:
            if required:
                raise self.fail(f"'{self._name(key)}' is missing")
            return None
        return self.table[key]

    def text(self, key: str) -> str:
        value = self._get(key, True)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{self._name(key)}' must be a non-empty string")
        return value.strip()

    def optional_text(self, key: str, default: str = "") -> str:
        if key not in self.table:
            return default
        return self.text(key)

    def slug(self, key: str) -> str:
        value = self.text(key)
        if not SLUG.match(value):
            raise self.fail(
                f"'{self._name(key)}' = {value!r} must be lowercase letters, digits, "
                "'-' or '_' (at most 63)"
            )
        return value

    def integer(self, key: str) -> int:
        value = self._get(key, True)
        if type(value) is not int:
            raise self.fail(f"'{self._name(key)}' must be a whole number, not {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(f"'{self._name(key)}' must be true or false, not {value!r}")
        return value

    def table_of(self, key: str) -> Fields:
        value = self._get(key, True)
        if not isinstance(value, dict):
            raise self.fail(f"'{self._name(key)}' must be a table")
        return Fields(self.path, value, self._name(key))

    def tables(self, key: str, *, required: bool = True) -> list[Fields]:
        """An array of tables (`[[key]]`); each element gets a name like `items[3]`."""
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(f"'{self._name(key)}' must be an array of tables ([[{key}]])")
        if required and not value:
            raise self.fail(f"'{self._name(key)}' must not be empty")
        return [Fields(self.path, v, f"{self._name(key)}[{i + 1}]") for i, v in enumerate(value)]

    def strings(self, key: str) -> list[str]:
        value = self._get(key, True)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"'{self._name(key)}' must be a list of non-empty strings")
        if not value:
            raise self.fail(f"'{self._name(key)}' must not be empty")
        return list(value)

    def only(self, allowed: Sequence[str]) -> None:
        """Refuse keys the reader does not know: a typo must not be silently ignored."""
        unknown = sorted(set(self.table) - set(allowed))
        if unknown:
            where = f" in '{self.where}'" if self.where else ""
            plural = "s" if len(unknown) > 1 else ""
            raise self.fail(f"unknown key{plural}{where}: {', '.join(unknown)}")


def unique(path: Path, what: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise DefinitionError(path, f"{what} {v!r} appears more than once")
        seen.add(v)
