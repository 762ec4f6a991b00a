"""Column helpers shared by the models."""

from enum import StrEnum

from sqlalchemy import Enum


def enum_column(enum: type[StrEnum]) -> Enum:
    """Enums stored as their string values, checked on both SQLite and PostgreSQL."""
    return Enum(
        enum,
        native_enum=False,
        length=20,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
        create_constraint=True,
        name=enum.__name__.lower(),
    )
