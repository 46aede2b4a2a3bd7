"""Which storage errors are worth a retry, and how a refusal is told without the row's data.

Transient: the connection, a timeout, an overloaded server (too many parts, memory, queries),
and anything unknown: a misconfiguration (a password, a missing table) must stall the stream
loudly, not dead-letter every event. Deterministic: ClickHouse refuses these rows and always
will (a value out of its column's range, text that is not Unicode, an insert spanning more
partitions than one block may): the sink bisects the batch to find them.

A ClickHouse message can quote the refused value ("Cannot parse input ... 'Jane Doe'"), so a
refusal is told by its class, code, name and column names only: never by the message itself.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError

from evalstream.contracts import StoredRow

# Server codes caused by the rows themselves (src/Common/ErrorCodes.cpp).
DATA_ERROR_CODES = {
    6: "CANNOT_PARSE_TEXT", 27: "CANNOT_PARSE_INPUT_ASSERTION_FAILED", 38: "CANNOT_PARSE_DATE", 41: "CANNOT_PARSE_DATETIME",
    53: "TYPE_MISMATCH", 69: "ARGUMENT_OUT_OF_BOUND", 70: "CANNOT_CONVERT_TYPE", 72: "CANNOT_PARSE_NUMBER", 117: "INCORRECT_DATA",
    131: "TOO_LARGE_STRING_SIZE", 190: "SIZES_OF_ARRAYS_DONT_MATCH", 321: "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
    349: "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN", 407: "DECIMAL_OVERFLOW", 469: "VIOLATED_CONSTRAINT",
}
TOO_MANY_PARTS = 252  # both "too many parts" (overload: transient) and "too many partitions for one INSERT block" (the batch)
_CODE = re.compile(r"Code: (\d+)")
_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")
_COLUMN = re.compile(r"`(\w{1,64})`")


@dataclass
class WriteOutcome:
    stored: list[StoredRow] = field(default_factory=list)  # new rows stored now
    refused: list[tuple[StoredRow, str]] = field(default_factory=list)  # with why, never their data
    attempted: list[StoredRow] = field(default_factory=list)  # stored now, stored before, or refused


def error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    found = _CODE.search(str(exc))
    return int(found.group(1)) if found else None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (UnicodeError, struct.error, OverflowError, TypeError)):
        return False  # the client could not serialize a value
    if isinstance(exc, DataError):
        return False
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, ValueError) and not isinstance(exc, DatabaseError):
        return False
    code = error_code(exc)
    if code in DATA_ERROR_CODES:
        return False
    if code == TOO_MANY_PARTS and "partitions for single INSERT block" in str(exc):
        return False
    return True


def refusal_reason(exc: BaseException) -> str:
    """`ClickHouse refused the row: <class> [code N NAME] [columns ...]`: nothing quoted from the message."""
    if isinstance(exc, UnicodeError):
        return "ClickHouse refused the row: UnicodeEncodeError (a text holds a lone surrogate: not valid Unicode)"
    parts = [type(exc).__name__]
    code = error_code(exc)
    if code is not None:
        name = DATA_ERROR_CODES.get(code) or next(iter(_NAME.findall(str(exc))[-1:]), "")
        parts.append(f"code {code} {name}".rstrip())
    columns = sorted(set(_COLUMN.findall(str(exc))))[:5]
    if columns:
        parts.append("column " + ", ".join(columns))
    if isinstance(exc, (struct.error, OverflowError)) or (isinstance(exc, DataError) and "range" in str(exc)):
        parts.append("a value out of its column's range")
    return "ClickHouse refused the row: " + "; ".join(parts)
