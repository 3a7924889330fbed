"""Plain `executemany` inserts and updates for the big tables of an import (staged rows, new pupils).

The ORM's bulk_create builds SQL with one placeholder group per row and converts every value through the field
machinery; for 30,000 pupils that costs more than the database's own work. Here the statement is built once and
only the column types that need it (dates) are converted, so the cost per row stays small and constant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

BATCH = 2000


def _converters(model: type[models.Model], columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        field = model._meta.get_field(name)
        if isinstance(field, models.DateTimeField):
            out.append(connection.ops.adapt_datetimefield_value)
        elif isinstance(field, models.DateField):
            out.append(connection.ops.adapt_datefield_value)
        else:
            out.append(None)
    return out


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, f"{name} is not a column of {model.__name__}"
    return connection.ops.quote_name(field.column)


def _convert(rows: Iterable[Sequence[Any]], converters: list[Callable[[Any], Any] | None]) -> list[tuple[Any, ...]]:
    if not any(converters):
        return [tuple(r) for r in rows]
    return [tuple(v if c is None or v is None else c(v) for v, c in zip(r, converters, strict=True)) for r in rows]


def insert(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """INSERT rows (tuples in `columns` order) in batches; ids are not returned."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(_column(model, c) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 - names from _meta
    converters = _converters(model, columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, _convert(rows[start : start + BATCH], converters))
    return len(rows)


def update(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """UPDATE by primary key: each row is (value per column…, pk)."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{_column(model, c)} = %s" for c in columns)
    assert model._meta.pk is not None and model._meta.pk.column
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608 - names from _meta
    converters = [*_converters(model, columns), None]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, _convert(rows[start : start + BATCH], converters))
    return len(rows)
