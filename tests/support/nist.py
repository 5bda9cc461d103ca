"""Loader for the NIST StRD linear least squares reference data sets in ``tests/data/nist/``.

Each ``.dat`` file is NIST's own text: a header that says where the certified values and the
data lie ("Certified Values (lines a to b)", "Data (lines c to d)"), how many predictors and
observations there are, and the model line ("y = B0 + B1*x + ..."). Everything returned here
is read from the file: the data, the certified values, and the shape of the model (how many
predictors, whether there is an intercept B0, the polynomial degree). Nothing is hard-coded
per data set.

    >>> ds = load("Pontius")
    >>> ds.X.shape, ds.degree, ds.intercept        # columns x, x**2; B0 is the intercept
    ((40, 2), 2, True)

The design matrix ``X`` never holds the intercept column: add a column of ones when
``intercept`` is true. ``coef`` and ``coef_se`` are ordered B0, B1, ... (B0 first when there is
an intercept), which is the order of ``[1, X]``.

See ``tests/data/nist/README.md`` for the provenance of each file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "nist"

#: The eleven NIST StRD linear regression data sets, in NIST's order (lower, average, higher difficulty).
NAMES = (
    "Norris",
    "Pontius",
    "NoInt1",
    "NoInt2",
    "Filip",
    "Longley",
    "Wampler1",
    "Wampler2",
    "Wampler3",
    "Wampler4",
    "Wampler5",
)

_SPAN = r"\(lines\s+(\d+)\s+to\s+(\d+)\)"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][-+]?\d+)?"


@dataclass(frozen=True)
class NistDataset:
    """One NIST StRD linear least squares data set and its certified results.

    name        the data set's name, e.g. ``"Filip"``
    x           the raw predictor(s) as in the file: shape (n,) with one predictor, (n, k) with k > 1 (Longley)
    y           the response, shape (n,)
    X           the design matrix WITHOUT the intercept column, shape (n, p):
                polynomial models: the powers x, x**2, ..., x**degree; Longley: its 6 raw columns
    degree      polynomial degree of the model in x (1 for straight lines and for Longley's linear model)
    intercept   whether the model has B0 (false for NoInt1 and NoInt2)
    coef        certified parameter estimates B0..Bk (or B1 alone without an intercept), shape (p + intercept,)
    coef_se     certified standard deviations of those estimates, same shape
    residual_sd certified residual standard deviation
    r2          certified R-squared (NIST's uncentred definition for the no-intercept models)
    level       NIST's level of difficulty: "Lower", "Average" or "Higher"
    model       NIST's model line, e.g. ``"y = B0 + B1*x + B2*(x**2)"``
    path        the file the values were read from
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    X: np.ndarray
    degree: int
    intercept: bool
    coef: np.ndarray
    coef_se: np.ndarray
    residual_sd: float
    r2: float
    level: str
    model: str
    path: Path

    @property
    def n(self) -> int:
        """Number of observations."""
        return self.y.shape[0]

    def design(self) -> np.ndarray:
        """The full design matrix, with a leading column of ones when the model has an intercept."""
        if not self.intercept:
            return self.X
        return np.column_stack([np.ones(self.n), self.X])


def path_of(name: str) -> Path:
    """Where the ``.dat`` file of data set ``name`` lives (it may be missing; see README.md)."""
    return DATA_DIR / f"{_canonical(name)}.dat"


def available() -> tuple[str, ...]:
    """The names in ``NAMES`` whose ``.dat`` (or, for Longley, ``.json``) file is present."""
    return tuple(name for name in NAMES if path_of(name).is_file() or path_of(name).with_suffix(".json").is_file())


def load(name: str) -> NistDataset:
    """Parse ``tests/data/nist/<name>.dat`` (name as in ``NAMES``, case-insensitive)."""
    name = _canonical(name)
    path = path_of(name)
    if not path.is_file() and path.with_suffix(".json").is_file():
        return _load_json(name, path.with_suffix(".json"))
    if not path.is_file():
        raise FileNotFoundError(f"NIST StRD file for {name!r} is not in the repository: {path} (see README.md)")
    lines = path.read_text(encoding="ascii").splitlines()
    header = "\n".join(lines[:60])

    cert_first, cert_last = _span(header, "Certified Values")
    data_first, data_last = _span(header, "Data")
    n_predictors = _int(header, r"(\d+)\s+Predictor Variable")
    n_obs = _int(header, r"(\d+)\s+Observations")
    level = _match(header, r"(\w+)\s+Level of Difficulty").group(1)
    model = _model_line(lines[: cert_first - 1])

    # Certified values: "B<i>  estimate  sd" rows, then "Standard Deviation <v>" (residual) and "R-Squared <v>".
    index, coef, coef_se = [], [], []
    residual_sd = r2 = None
    for line in lines[cert_first - 1 : cert_last]:
        if m := re.match(rf"\s*B(\d+)\s+({_NUMBER})\s+({_NUMBER})\s*$", line):
            index.append(int(m.group(1)))
            coef.append(_float(m.group(2)))
            coef_se.append(_float(m.group(3)))
        elif m := re.match(rf"\s*Standard Deviation\s+({_NUMBER})\s*$", line):
            residual_sd = _float(m.group(1))
        elif m := re.match(rf"\s*R-Squared\s+({_NUMBER})\s*$", line):
            r2 = _float(m.group(1))
    if not index or residual_sd is None or r2 is None:
        raise ValueError(f"{path}: incomplete certified block (lines {cert_first} to {cert_last})")
    intercept = index[0] == 0
    if index != list(range(0 if intercept else 1, len(index) + (0 if intercept else 1))):
        raise ValueError(f"{path}: parameters are not B0..Bk or B1..Bk in order: {index}")

    rows = [line.split() for line in lines[data_first - 1 : data_last] if line.strip()]
    if len(rows) != n_obs or len(rows) != data_last - data_first + 1:
        raise ValueError(f"{path}: {len(rows)} data rows, header says {n_obs} in lines {data_first} to {data_last}")
    if any(len(row) != 1 + n_predictors for row in rows):
        raise ValueError(f"{path}: a data row does not have 1 response + {n_predictors} predictor columns")
    table = np.array([[_float(v) for v in row] for row in rows], dtype=np.float64)
    y = table[:, 0]

    n_slopes = len(index) - intercept  # parameters other than B0
    if n_predictors == 1:
        x = table[:, 1]
        degree = n_slopes
        powers = [int(p) for p in re.findall(r"x\*\*\(?(\d+)", model)]
        if max(powers, default=1) != degree:
            raise ValueError(f"{path}: model line {model!r} does not match {len(index)} certified parameters")
        X = np.column_stack([x**k for k in range(1, degree + 1)])
    else:
        x = table[:, 1:]
        degree = 1
        if n_slopes != n_predictors:
            raise ValueError(f"{path}: {n_predictors} predictors but {n_slopes} slope parameters")
        X = x.copy()

    return NistDataset(
        name=name,
        x=x,
        y=y,
        X=X,
        degree=degree,
        intercept=intercept,
        coef=np.array(coef),
        coef_se=np.array(coef_se),
        residual_sd=residual_sd,
        r2=r2,
        level=level,
        model=model,
        path=path,
    )


def _canonical(name: str) -> str:
    for known in NAMES:
        if known.lower() == name.lower():
            return known
    raise KeyError(f"unknown NIST StRD linear regression data set {name!r}; known: {', '.join(NAMES)}")


def _match(text: str, pattern: str) -> re.Match[str]:
    m = re.search(pattern, text)
    if m is None:
        raise ValueError(f"NIST header has no match for {pattern!r}")
    return m


def _int(text: str, pattern: str) -> int:
    return int(_match(text, pattern).group(1))


def _span(header: str, what: str) -> tuple[int, int]:
    m = _match(header, rf"{what}\s*{_SPAN}")
    return int(m.group(1)), int(m.group(2))


def _model_line(header_lines: list[str]) -> str:
    """The "y = ..." line of the header (Filip's spells its middle terms as "...")."""
    for line in header_lines:
        if line.strip().startswith("y ="):
            return " ".join(line.split())
    raise ValueError("NIST header has no 'y = ...' model line")


def _float(text: str) -> float:
    return float(text.replace("D", "E").replace("d", "e"))


def _load_json(name: str, path: Path) -> NistDataset:
    """A data set kept as JSON (Longley: data and certified values with their provenance, see README.md)."""
    import json

    doc = json.loads(path.read_text(encoding="utf-8"))
    x = np.array([[float(v) for v in row] for row in doc["data"]["x"]])
    cert = doc["certified"]
    return NistDataset(name=name, x=x, y=np.array([float(v) for v in doc["data"]["y"]]), X=x, degree=1,
                       intercept=True, coef=np.array([float(v) for v in cert["coef"]]),
                       coef_se=np.array([float(v) for v in cert["coef_se"]]),
                       residual_sd=float(cert["residual_sd"]), r2=float(cert["r2"]), level=doc["level"],
                       model=doc["model"], path=path)
