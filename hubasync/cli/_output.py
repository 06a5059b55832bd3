"""Output of the ``hubasync`` command: rows as a rich table, JSON or CSV.

``--format json`` is one JSON document written only once complete: an interrupted or failed
command leaves no half document on stdout. ``--format jsonl`` (JSON Lines: one object per
line) and CSV are streamed as rows arrive, so every line already written stays valid after
Ctrl-C and a long listing is never held in memory; a table is collected and drawn at the
end. Values are converted by pure functions: datetimes become ISO 8601 in UTC (``…Z``) in
JSON/CSV, lists become JSON arrays or space-separated CSV cells.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.table import Table

__all__ = [
    "CsvRows",
    "JsonLines",
    "JsonRows",
    "RowSink",
    "TableRows",
    "console_for",
    "csv_cell",
    "iso",
    "json_value",
    "row_sink",
    "table_cell",
]


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC with a ``Z`` (``None`` stays ``None``)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_value(value: Any) -> Any:
    """A value made JSON-ready: datetimes as ISO strings, tuples as lists, recursively."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def csv_cell(value: Any) -> str:
    """A value as one CSV cell: empty for ``None``, space-separated lists, ISO datetimes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value) or ""
    if isinstance(value, list | tuple):
        return " ".join(csv_cell(v) for v in value)
    return str(value)


def table_cell(value: Any) -> str:
    """A value for a table: ``-`` for nothing, short UTC times, comma-separated lists."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(table_cell(v) for v in value) if value else "-"
    return str(value)


class _Console(Console):
    """rich's console, but a closed pipe raises BrokenPipeError (rich exits with 1, which
    here means "something failed"): the command then ends quietly with 141, like others."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def console_for(stream: TextIO) -> Console:
    """A rich console writing to ``stream`` (wide enough for digests when not a terminal)."""
    console = _Console(file=stream, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console = _Console(file=stream, highlight=False, width=160, color_system=None)
    return console


class RowSink(Protocol):
    """Where rows go: :meth:`add` each row (a mapping of column → value), then :meth:`close`."""

    def add(self, row: Mapping[str, Any]) -> None:
        """Write (or collect) one row."""

    def close(self) -> None:
        """Finish the output (closing bracket, the drawn table...)."""


class JsonRows:
    """A JSON array of objects (one per line), written when closed: never half an array."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lines: list[str] = []

    def add(self, row: Mapping[str, Any]) -> None:
        """Collect one object."""
        self._lines.append(json.dumps(json_value(row), sort_keys=False))

    def close(self) -> None:
        """Write the whole array."""
        self._out.write("[\n" + ",\n".join(self._lines) + "\n]\n" if self._lines else "[]\n")
        self._out.flush()


class JsonLines:
    """JSON Lines: one object per line, each written (and flushed) as it arrives."""

    def __init__(self, out: TextIO) -> None:
        self._out = out

    def add(self, row: Mapping[str, Any]) -> None:
        """Write one line."""
        self._out.write(json.dumps(json_value(row), sort_keys=False) + "\n")
        self._out.flush()

    def close(self) -> None:
        """Flush."""
        self._out.flush()


class CsvRows:
    """CSV with a header line, streamed."""

    def __init__(self, out: TextIO, columns: Sequence[str]) -> None:
        self._out = out
        self._writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
        self._writer.writeheader()

    def add(self, row: Mapping[str, Any]) -> None:
        """Write one line."""
        self._writer.writerow({k: csv_cell(v) for k, v in row.items()})

    def close(self) -> None:
        """Flush."""
        self._out.flush()


class TableRows:
    """A rich table, drawn when closed."""

    def __init__(self, out: TextIO, columns: Sequence[str], *, title: str | None = None) -> None:
        self._console = console_for(out)
        self._table = Table(title=title, title_justify="left")
        for column in columns:
            self._table.add_column(column.replace("_", " "), overflow="fold")
        self._columns = list(columns)
        self._rows = 0

    def add(self, row: Mapping[str, Any]) -> None:
        """Collect one row."""
        self._table.add_row(*(table_cell(row.get(c)) for c in self._columns))
        self._rows += 1

    def close(self) -> None:
        """Draw the table (or say it is empty)."""
        if self._rows:
            self._console.print(self._table)
        else:
            self._console.print(f"{self._table.title or 'Nothing'}: none", markup=False)


def row_sink(fmt: str, out: TextIO, columns: Sequence[str], *, title: str | None = None) -> RowSink:
    """The sink for ``--format`` ``fmt`` (table, json, jsonl or csv)."""
    if fmt == "json":
        return JsonRows(out)
    if fmt == "jsonl":
        return JsonLines(out)
    if fmt == "csv":
        return CsvRows(out, columns)
    return TableRows(out, columns, title=title)
