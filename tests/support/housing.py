"""A housing-like table for the real-tables tests: numbers with gaps, a city, a sale date, an id column."""

from __future__ import annotations

import numpy as np

CITIES = ("Lyon", "Marseille", "Nice", "Paris", "Toulouse")
CITY_EFFECT = {"Lyon": 0.0, "Marseille": -40.0, "Nice": 35.0, "Paris": 120.0, "Toulouse": -25.0}


def housing(n: int = 2000, *, seed: int = 0, gaps: float = 0.1, cities=CITIES, noise: float = 10.0):
    """A pandas DataFrame: id (0..n-1, all distinct), sqm and rooms (a share ``gaps`` of empty cells), city
    (text), sold (a date), price = 3·sqm + 12·rooms + city effect + 0.01·days since 2015 + gap effects + noise.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    sqm = rng.uniform(20, 200, n).round(1)
    rooms = rng.integers(1, 7, n).astype(float)
    city = rng.choice(list(cities), n)
    sold = np.datetime64("2015-01-01") + rng.integers(0, 3000, n).astype("timedelta64[D]")
    days = (sold - np.datetime64("1970-01-01")).astype(np.int64).astype(float)
    price = (3.0 * sqm + 12.0 * rooms + np.array([CITY_EFFECT.get(c, 0.0) for c in city])
             + 0.01 * (days - 16436) + 50.0 + rng.normal(0, noise, n))
    sqm_gap, rooms_gap = rng.random(n) < gaps, rng.random(n) < gaps
    price = price + 15.0 * sqm_gap  # a gap means something: the indicator column can learn it
    df = pd.DataFrame({"id": np.arange(n), "sqm": np.where(sqm_gap, np.nan, sqm),
                       "rooms": np.where(rooms_gap, np.nan, rooms), "city": city,
                       "sold": pd.to_datetime(sold), "price": price.round(3)})
    return df


def write_csv(df, path) -> None:
    """CSV as a user would have it: dates as YYYY-MM-DD, gaps as empty cells, no index column."""
    out = df.copy()
    out["sold"] = out["sold"].dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False)
