"""Public tables as a practitioner meets them: ISLP's Wage, Bikeshare, Carseats, Auto and College, and ggplot2's
``economics`` (as plotnine ships it), each read from the CSV its package ships.

The oracle is statsmodels' OLS on a design built from the model's feature names alone (``col=level`` is the
indicator of that level, a date is days since 1970-01-01), on the same rows: the default answer
(``solver="auto"``) must equal it within 1e-6 standard errors; ``--solver sgd`` with its defaults must not
diverge and must end within 1 standard error or say how far it is.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import linsgd
from linsgd.config import DataConfig, TrainConfig
from linsgd.sgd.convergence import SE_THRESHOLD, Distance, diagnose

sm = pytest.importorskip("statsmodels.api")


def _data_dir(package: str) -> Path:
    """The data folder a package ships, found without importing the package (ISLP and plotnine import heavy
    dependencies that the tests do not install: the Makefile installs both with --no-deps)."""
    spec = importlib.util.find_spec(package)
    assert spec is not None, f"{package} is not installed: `make .venv/.installed-dev` installs it"
    return Path(next(iter(spec.submodule_search_locations))) / "data"


# name → (file, target, excluded columns)
TABLES = {
    "Wage": ("ISLP", "Wage.csv", "wage", ("logwage",)),
    "Bikeshare": ("ISLP", "Bikeshare.csv", "bikers", ("casual", "registered")),
    "Carseats": ("ISLP", "Carseats.csv", "Sales", ()),
    "Auto": ("ISLP", "Auto.csv", "mpg", ("name",)),  # name: 301 distinct strings, an identifier
    "College": ("ISLP", "College.csv", "Apps", ()),
    "economics": ("plotnine", "economics.csv", "unemploy", ()),
}


def _path(name: str) -> Path:
    package, file, _, _ = TABLES[name]
    return _data_dir(package) / file


def _ols(name: str, feature_names: list[str]):
    """statsmodels OLS of the table's target on the columns named like linsgd's encoded features."""
    _, _, target, _ = TABLES[name]
    df = pd.read_csv(_path(name))
    columns = {}
    for f in feature_names:
        col, _, level = f.partition("=")
        if level:
            columns[f] = (df[col].astype(str) == level).astype(float)
        elif df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):  # a date column
            columns[f] = (pd.to_datetime(df[col]) - pd.Timestamp("1970-01-01")).dt.days.astype(float)
        else:
            columns[f] = df[col].astype(float)
    X = sm.add_constant(pd.DataFrame(columns), has_constant="add")
    return sm.OLS(df[target].astype(float), X).fit()


def _fit(name: str, config: TrainConfig):
    _, _, target, exclude = TABLES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # identifier notes: the CLI test below reads them
        return linsgd.fit_file(_path(name), DataConfig(target=target, exclude=exclude), config)


def _se_units(run, ols) -> np.ndarray:
    names = run.model.feature_names
    coef = np.append(run.model.w, run.model.b)
    ref = np.append(ols.params[names].to_numpy(), ols.params["const"])
    se = np.append(ols.bse[names].to_numpy(), ols.bse["const"])
    return np.abs(coef - ref) / se


@pytest.mark.parametrize("name", sorted(TABLES))
def test_the_default_answer_is_statsmodels_ols(name):
    run = _fit(name, TrainConfig(seed=0))
    config = run.result.config
    assert config.solver == "exact" and config.solver_reason.startswith("exact: least squares in one pass")
    assert run.model.config["solver_reason"] == config.solver_reason  # the model says which solver and why
    ols = _ols(name, run.model.feature_names)
    assert len(run.model.feature_names) == len(set(run.model.feature_names))
    assert _se_units(run, ols).max() < 1e-6


@pytest.mark.parametrize("name", sorted(TABLES))
def test_sgd_with_its_defaults_lands_within_a_standard_error_or_says_how_far(name):
    run = _fit(name, TrainConfig(solver="sgd", seed=0))  # no divergence: no DivergenceError here
    gap = run.model.metrics["train"]["optimality_gap"]
    found = Distance.from_gap(gap, gap["null"])
    units = _se_units(run, _ols(name, run.model.feature_names))
    # the distance the run reports is the one statsmodels' standard errors give (the intercept's too)
    assert found.max_se == pytest.approx(units.max(), rel=1e-3)
    why = diagnose(run.result, found, cli=True, se_rule=True)
    if units.max() > SE_THRESHOLD:
        assert why is not None and f"{found.max_se:.3g} standard errors" in why
    else:
        assert why is None or "relative optimality gap" in why


def test_the_cli_default_says_which_solver_and_sgd_on_a_rare_level_does_not_diverge(cli, tmp_path):
    # Bikeshare's weather level "heavy rain/snow" has one row of 8,645: its standardised indicator is 93 there
    flags = ("--target", "bikers", "--exclude", "casual,registered", "--seed", 1)
    code, out, err = cli("train", _path("Bikeshare"), *flags, "--out", tmp_path / "a")
    assert code == 0, err
    assert "solver: exact: least squares in one pass (the statistics of " in out and "warning" not in err
    code, out, err = cli("train", _path("Bikeshare"), *flags, "--solver", "sgd", "--out", tmp_path / "s")
    assert code == 0, err
    assert "solver: sgd" in out
    gap = linsgd.load_model(tmp_path / "s" / "model.safetensors").metrics["train"]["optimality_gap"]
    if gap["max_se_units"] > SE_THRESHOLD:  # far: the warning names the distance and what to change
        assert f"{gap['max_se_units']:.3g} standard errors" in err and "--solver exact" in err
