"""Reading a table file by its extension: CSV, TSV (.tsv, .tab) or Parquet (.parquet, .pq); any other
name is read as CSV. Every problem is a DataError."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.errors import DataError

TAB_SEPARATED = (".tsv", ".tab")
PARQUET = (".parquet", ".pq")


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"The --data file '{path}' does not exist or is not a file.")
    suffix = path.suffix.lower()
    if suffix in PARQUET:
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid and OSError kinds for a bad file
            raise DataError(f"The --data file '{path}' is not a readable Parquet file: "
                            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    kind = "TSV" if suffix in TAB_SEPARATED else "CSV"
    try:
        return pd.read_csv(path, sep="\t" if kind == "TSV" else ",")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"The --data file '{path}' is not a readable {kind}: {str(exc).splitlines()[0]}") from None
