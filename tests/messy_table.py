"""A table as users bring them, for the tests: text and boolean columns, empty cells, numbers written as
text with a stray '?', a date, an identifier, row numbers, free-text comments, a constant column and a
target with empty cells. The label depends on age, city and membership, so a model can learn it."""
from __future__ import annotations

import numpy as np
import pandas as pd

CITIES = ("paris", "rome", "oslo", "lima")
WORDS = ("late", "parcel", "friendly", "staff", "refund", "asked", "again", "never", "arrived", "quick")


def messy_table(rows: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 80, rows).round()
    city = rng.choice(CITIES, rows)
    member = rng.random(rows) < 0.5
    score = 0.08 * (age - 49) + 2.0 * (city == "paris") - 1.5 * member + rng.normal(0, 0.5, rows)
    frame = pd.DataFrame({
        "customer": [f"C{i:05d}" for i in range(rows)],
        "row": np.arange(1, rows + 1),
        "age": age,
        "income": [f"{v:.1f}" for v in rng.normal(50, 10, rows)],
        "city": city.astype(object),
        "member": member,
        "joined": [str(d.date()) for d in pd.Timestamp("2020-01-01")
                   + pd.to_timedelta(rng.integers(0, 900, rows), "D")],
        "comment": [" ".join(rng.choice(WORDS, 6)) + f" order {i}" for i in range(rows)],
        "source": "web",
        "label": np.where(score > 0, "yes", "no").astype(object),
    })
    frame.loc[::9, "age"] = np.nan             # gaps in a numeric column
    frame.loc[::11, "city"] = None             # ... in a text column
    frame.loc[5, "city"] = "nuuk"              # a category too rare to keep
    frame.loc[7, "income"] = "?"               # a stray marker in numbers written as text
    frame.loc[[3, 50, 100], "label"] = None    # rows with no label: left out
    return frame
