"""The Python API of file training: fit_file, write_run, DataConfig."""

from __future__ import annotations

import numpy as np
import pytest

import linsgd
from linsgd.config import DataConfig, TrainConfig
from linsgd.errors import ConfigError


@pytest.mark.parametrize("field, value", [("val_fraction", 1.0), ("val_fraction", -0.1), ("max_memory", 0),
                                          ("on_bad_rows", "ignore"), ("target", ""), ("features", ())])
def test_data_config_names_the_bad_field(field, value):
    kwargs = {"target": "y", field: value}
    with pytest.raises(ConfigError) as e:
        DataConfig(**kwargs).validate()
    assert e.value.param == field


def test_fit_file_and_write_run(tmp_path):
    X, y = linsgd.make_regression(3000, [2, -3.4, 0.5], 4.2, seed=5)
    path = tmp_path / "d.npy"
    np.save(path, np.column_stack([X, y]))
    run = linsgd.fit_file(path, DataConfig(target="3", val_fraction=0.2, max_memory=10_000),
                          TrainConfig(seed=1, engine="fused"))
    assert run.streamed and run.train_rows + run.val_rows == 3000
    np.testing.assert_allclose(run.model.w, [2, -3.4, 0.5], atol=5e-3)
    out = linsgd.write_run(run, tmp_path / "run")
    assert linsgd.load_model(out / "model.safetensors").feature_names == ["0", "1", "2"]
