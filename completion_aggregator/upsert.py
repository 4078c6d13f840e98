"""
Lean upserts: one ``INSERT … ON CONFLICT/DUPLICATE KEY UPDATE`` per batch of prepared tuples.

The one place for the vendor SQL of the app's bulk writes (ADR 0017, "Lean writes"). Rows are
plain tuples whose values are already what the database driver takes (strings for keys,
adapted datetimes), so no model instance is built and no field converts a value per row.

* MariaDB/MySQL: ``ON DUPLICATE KEY UPDATE c = VALUES(c)`` (MariaDB, MySQL before 8.0.19) or
  the row alias ``AS new … c = new.c`` (MySQL 8.0.19 and later), as Django's own
  ``bulk_create(update_conflicts=True)`` writes it; any unique key (the primary key first)
  resolves the conflict.
* PostgreSQL and SQLite: ``ON CONFLICT (unique columns) DO UPDATE SET c = EXCLUDED.c``.
* Any other backend: ``bulk_create(update_conflicts=True)`` with model instances (the
  fallback; :meth:`Upsert.db_value` then hands back the Python values unchanged).

With ``increment=True`` a conflicting row adds the new values to its own instead
(``c = c + VALUES(c)``, ``c = new.c`` → ``c = c + new.c``, ``c = table.c + EXCLUDED.c``; the
fallback updates row by row with ``F(c) + value``): the running totals' writers add their
changes in one statement without reading the rows first (ADR 0020).

Statements hold at most ``batch_size`` rows (and no more parameters than the backend takes:
``connection.ops.bulk_batch_size``), so a write sends as many statements as the
``bulk_create`` it replaces.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

#: The backends with their own SQL here (``connection.vendor``); others use the fallback.
NATIVE_VENDORS = ("mysql", "postgresql", "sqlite")


class Upsert:
    """
    An upsert of ``model`` rows given as tuples of ``fields`` (attribute names, e.g. ``user_id``).

    ``unique_fields``: the conflict target (PostgreSQL, SQLite and the fallback; MariaDB/MySQL
    resolve any unique key). ``update_fields``: the columns a conflicting row takes from the
    new one (the others, e.g. ``created``, are kept); with ``increment`` it adds the new
    values to them instead (numeric columns only).
    """

    def __init__(
        self,
        model: type[Model],
        fields: Sequence[str],
        unique_fields: Sequence[str],
        update_fields: Sequence[str],
        using: str = DEFAULT_DB_ALIAS,
        batch_size: int = 1000,
        increment: bool = False,
    ) -> None:
        self.model = model
        self.fields = tuple(fields)
        self.unique_fields = tuple(unique_fields)
        self.update_fields = tuple(update_fields)
        self.using = using
        self.batch_size = batch_size
        self.increment = increment
        self.connection = connections[using]
        self.native = self.connection.vendor in NATIVE_VENDORS
        opts = model._meta
        self._fields = [opts.get_field(name) for name in self.fields]
        self._field_by_attname = {field.attname: field for field in opts.concrete_fields}

    def db_value(self, attname: str) -> Callable[[Any], Any]:
        """
        A converter of a Python value of field ``attname`` into the value this upsert sends.

        The field's own ``get_db_prep_save`` (so keys are stripped and serialised and datetimes
        adapted exactly as the ORM would), cached per distinct value: call it for values that
        repeat (keys, timestamps); plain numbers need no conversion. With the fallback it is
        the identity (``bulk_create`` converts).
        """
        if not self.native:
            return lambda value: value
        field = self._field_by_attname[attname]
        cache: dict[Any, Any] = {}
        connection = self.connection

        def convert(value: Any) -> Any:
            try:
                return cache[value]
            except KeyError:
                converted = cache[value] = field.get_db_prep_save(value, connection)
                return converted

        return convert

    def _column(self, name: str) -> str:
        field: Any = self.model._meta.get_field(name)
        return str(field.column)

    def rows_per_statement(self) -> int:
        """The most rows one statement carries (``batch_size``, or fewer if the backend limits parameters)."""
        limit = self.connection.ops.bulk_batch_size(self._fields, [None] * self.batch_size)
        return max(1, min(self.batch_size, limit))

    def sql(self, count: int) -> str:
        """The statement for ``count`` rows (native vendors only)."""
        quote = self.connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(self._column(name)) for name in self.fields)
        placeholders = "(" + ", ".join(["%s"] * len(self._fields)) + ")"
        values = ", ".join([placeholders] * count)
        update = [quote(self._column(name)) for name in self.update_fields]
        vendor = self.connection.vendor
        add = "{old} + " if self.increment else ""
        if vendor == "mysql":
            mysql: Any = self.connection  # django.db.backends.mysql's DatabaseWrapper
            if mysql.mysql_is_mariadb or mysql.mysql_version < (8, 0, 19):
                assignments = ", ".join(f"{column} = {add.format(old=column)}VALUES({column})" for column in update)
                return f"INSERT INTO {table} ({columns}) VALUES {values} ON DUPLICATE KEY UPDATE {assignments}"
            assignments = ", ".join(f"{column} = {add.format(old=column)}new.{column}" for column in update)
            return f"INSERT INTO {table} ({columns}) VALUES {values} AS new ON DUPLICATE KEY UPDATE {assignments}"
        if vendor in ("postgresql", "sqlite"):
            target = ", ".join(quote(self._column(name)) for name in self.unique_fields)
            assignments = ", ".join(
                f"{column} = {add.format(old=f'{table}.{column}')}EXCLUDED.{column}" for column in update
            )
            return f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT({target}) DO UPDATE SET {assignments}"
        raise NotImplementedError(f"no upsert SQL for {vendor}")

    def write(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """
        Insert or update ``rows`` (tuples in ``fields`` order, values from :meth:`db_value`).

        Returns the number of statements sent. Call it inside the transaction that owns the
        rows' locks. Raises ``django.db.DatabaseError`` as the database reports it.
        """
        if not rows:
            return 0
        if not self.native:
            return self._fallback(rows)
        per = self.rows_per_statement()
        full = self.sql(per)
        sent = 0
        with self.connection.cursor() as cursor:
            for first in range(0, len(rows), per):
                batch = rows[first : first + per]
                params = [value for row in batch for value in row]
                cursor.execute(full if len(batch) == per else self.sql(len(batch)), params)
                sent += 1
        return sent

    def _fallback(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """``bulk_create(update_conflicts=True)`` for backends without SQL here."""
        if self.increment:
            return self._fallback_increment(rows)
        kwargs: dict[str, Any] = {
            "update_conflicts": True,
            "update_fields": list(self.update_fields),
            "batch_size": self.batch_size,
        }
        if self.connection.features.supports_update_conflicts_with_target:
            kwargs["unique_fields"] = list(self.unique_fields)
        objects = [self.model(**dict(zip(self.fields, row, strict=True))) for row in rows]
        self.model._default_manager.db_manager(self.using).bulk_create(objects, **kwargs)
        return -(-len(rows) // self.batch_size)

    def _fallback_increment(self, rows: Sequence[tuple[Any, ...]]) -> int:
        """Add each row to its stored row (``UPDATE … SET c = c + %s``), or insert it; returns the statements sent."""
        from django.db import IntegrityError, transaction
        from django.db.models import F

        manager = self.model._default_manager.db_manager(self.using)
        sent = 0
        for row in rows:
            values = dict(zip(self.fields, row, strict=True))
            key = {name: values[name] for name in self.unique_fields}
            added = {name: F(name) + values[name] for name in self.update_fields}
            sent += 1
            if manager.filter(**key).update(**added):
                continue
            try:
                with transaction.atomic(using=self.using):
                    manager.create(**values)
                sent += 1
            except IntegrityError:  # inserted meanwhile by another writer: add to it
                manager.filter(**key).update(**added)
                sent += 2
        return sent
