"""Reading a table file by its extension: CSV, TSV (.tsv, .tab) or Parquet (.parquet, .pq); any other
name is read as CSV. Every problem is a DataError."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.errors import DataError

TAB_SEPARATED = (".tsv", ".tab")
PARQUET = (".parquet", ".pq")
# Wider tables are refused before they are read: pandas takes minutes over a header of a million columns.
# (Compressed files, and names longer than HEADER_BYTES / MAX_COLUMNS bytes, are read as they are.)
MAX_COLUMNS = 10_000
HEADER_BYTES = 1 << 20  # enough of the first line to count MAX_COLUMNS short names


def check_width(path: Path, kind: str) -> None:
    if kind == "Parquet":
        import pyarrow.parquet

        try:
            width = len(pyarrow.parquet.read_schema(path).names)
        except Exception:  # not Parquet: reading it says so
            return
    else:
        try:
            with open(path, "rb") as file:
                header = file.readline(HEADER_BYTES).split(b"\r", 1)[0]  # a lone CR ends a line too (pandas)
        except OSError as exc:
            raise DataError(f"The --data file '{path}' cannot be read: {exc.strerror or exc}") from None
        width = header.count(b"\t" if kind == "TSV" else b",") + 1
    if width > MAX_COLUMNS:
        raise DataError(f"The --data file '{path}' has more than {MAX_COLUMNS:,} columns; a table this wide "
                        f"is not read.")


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The --data file '{path}' does not exist or is not a file.")
    suffix = path.suffix.lower()
    kind = "Parquet" if suffix in PARQUET else "TSV" if suffix in TAB_SEPARATED else "CSV"
    check_width(path, kind)
    if kind == "Parquet":
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid and OSError kinds for a bad file
            raise DataError(f"The --data file '{path}' is not a readable Parquet file: "
                            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    try:
        return pd.read_csv(path, sep="\t" if kind == "TSV" else ",")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"The --data file '{path}' is not a readable {kind}: {str(exc).splitlines()[0]}") from None
