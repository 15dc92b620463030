"""Strict reading of the reference files (sensorvendor.csv, sensormaint.csv), before any alert is read.

A reference file is small and joined with every alert: one wrong line would give every enriched row
of its pumps a null or wrong vendor, silently. So a file is checked whole, in plain Python, and any
problem fails the enrichment with one line naming the file, the line number and the problem:
a header is recognised (its columns are then mapped by name, in any order); a line with another
number of fields, a date that is not M/D/YY, a number that is not one, an empty pump id, a pump the
vendor file lists twice, or a last line without its line ending (a copy cut short) is refused.
"""

from __future__ import annotations

import csv
import io
import math

from include.schemas import parse_date

# Columns whose values must be dates (M/D/YY).
DATE_COLUMNS = {"purchaseDate", "serviceDate", "eventDate"}


class ReferenceFileError(Exception):
    """A reference file that cannot be trusted: the message names the file, the line and the problem."""


def check(path: str, content: bytes, columns: tuple[tuple[str, str], ...], one_line_per_pump: bool = False) -> list:
    """The rows of a reference file, as tuples in the order of columns; ReferenceFileError otherwise.
    one_line_per_pump: a pump listed twice is an error (the vendor file: its alerts would repeat)."""

    def refuse(line: int, problem: str) -> ReferenceFileError:
        return ReferenceFileError(f"{path}: line {line}: {problem}")

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise refuse(line, f"not valid UTF-8 (byte {content[error.start]:#04x})") from None
    lines = list(csv.reader(io.StringIO(text)))
    if text and not text.endswith(("\n", "\r")):
        raise refuse(len(lines), "the last line has no line ending: the file is cut short (stage it again)")
    names = [name for name, _ in columns]
    order, first = list(range(len(names))), 1
    if lines and {field.strip().lower() for field in lines[0]} == {name.lower() for name in names}:
        by_name = {field.strip().lower(): index for index, field in enumerate(lines[0])}
        order, first = [by_name[name.lower()] for name in names], 2  # the header's order, mapped by name
    rows, seen = [], {}
    for number, fields in enumerate(lines[first - 1 :], start=first):
        if not fields:
            continue  # a blank line
        if len(fields) != len(names):
            raise refuse(number, f"has {len(fields)} fields, expected {len(names)} ({','.join(names)})")
        values = [fields[index] for index in order]
        pairs = zip(columns, values, strict=True)
        rows.append(tuple(_value(refuse, number, name, kind, value) for (name, kind), value in pairs))
        resid = values[0]
        if one_line_per_pump and resid in seen:
            raise refuse(number, f"pump {resid} is listed again (first on line {seen[resid]})")
        seen.setdefault(resid, number)
    return rows


def _value(refuse, number: int, name: str, kind: str, value: str):
    if name == "resid" and not value.strip():
        raise refuse(number, "empty pump id (resid)")
    if name in DATE_COLUMNS:
        try:
            parse_date(value)
        except ValueError:
            raise refuse(number, f"{name} {value!r} is not a date as M/D/YY") from None
    if kind == "double":
        try:
            number_value = float(value)
        except ValueError:
            raise refuse(number, f"{name} {value!r} is not a number") from None
        if not math.isfinite(number_value):
            raise refuse(number, f"{name} {value!r} is not a finite number")
        return number_value
    return value
