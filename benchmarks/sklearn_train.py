"""scikit-learn's answer to ``linsgd train DATA --target y``: read the file, StandardScaler + SGDRegressor.

The whole-process peer of ``bench_threads.py``: pyarrow reads the CSV or Parquet file (as linsgd does), a
Pipeline of StandardScaler and SGDRegressor (scikit-learn's defaults: invscaling, early stopping on the
training loss, tol 1e-3) fits it, and the fitted pipeline is pickled next to the data. Usage::

    python benchmarks/sklearn_train.py DATA --target y --out model.pkl
"""

from __future__ import annotations

import argparse
import pickle


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--target", default="y")
    ap.add_argument("--out", default="model.pkl")
    a = ap.parse_args()
    import numpy as np
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    from sklearn.linear_model import SGDRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    table = pcsv.read_csv(a.data) if a.data.endswith(".csv") else pq.read_table(a.data)
    names = [c for c in table.column_names if c != a.target]
    X = np.column_stack([table.column(c).to_numpy() for c in names]).astype(np.float64)
    y = table.column(a.target).to_numpy().astype(np.float64)
    model = make_pipeline(StandardScaler(), SGDRegressor(random_state=0)).fit(X, y)
    with open(a.out, "wb") as f:
        pickle.dump(model, f)
    print(f"R2 {model.score(X, y):.6f}")


if __name__ == "__main__":
    main()
