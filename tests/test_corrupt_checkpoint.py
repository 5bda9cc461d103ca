"""A checkpoint holding values no run writes (NaN parameters, a negative epoch, broken metadata) is exit 4 on
``--resume``, naming the file and what is wrong, and is never trained on (it would end as a divergence)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from linsgd.errors import StorageError
from linsgd.runs.checkpoint import load_checkpoint

CKPT = "checkpoint.safetensors"


@pytest.fixture
def run(cli, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x1,x2,y\n" + "".join(f"{i % 10 / 10},{(i * 7) % 5 / 10},{i % 3}\n" for i in range(60)))
    common = ("train", data, "--target", "y", "--out", tmp_path / "run", "--quiet", "--seed", 0, "--lr", 0.03,
              "--checkpoint-every", "1epoch", "--average", "true")
    assert cli(*common, "--epochs", 1)[0] == 0
    return tmp_path / "run", (*common, "--epochs", 2, "--resume")


def _rewrite(path, tensors=None, state=None, raw_state=None):
    with safe_open(str(path), framework="np") as f:
        meta, arrays = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    s = json.loads(meta["state"]) | (state or {})
    meta["state"] = raw_state if raw_state is not None else json.dumps(s)
    save_file({**arrays, **(tensors or {})}, str(path), metadata=meta)


CORRUPT = {
    "nan in w": (dict(tensors={"w": np.array([np.nan, 0.0], np.float32)}), "tensor 'w' holds non-finite values"),
    "inf in the average": (dict(tensors={"wa": np.array([np.inf, 0.0])}), "tensor 'wa' holds non-finite values"),
    "w of another length": (dict(tensors={"w": np.zeros(3, np.float32)}),
                            "tensor 'best_w' has shape (2,) and dtype float32, expected float (3,)"),
    "nan intercept": (dict(state={"b": float("nan")}), "'b' is nan, not a finite number"),
    "negative epoch": (dict(state={"epoch": -1}), "'epoch' is -1, not an integer >= 0"),
    "position as text": (dict(state={"position": "10"}), "'position' is '10', not an integer >= 0"),
    "history not numbers": (dict(state={"history": ["a"]}), "'history' is not a list of numbers"),
    "state not JSON": (dict(raw_state="{epoch"), "corrupt checkpoint (metadata:"),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_a_corrupt_checkpoint_is_exit_4_on_resume_naming_the_file_and_the_problem(cli, run, case):
    folder, resume = run
    patch, said = CORRUPT[case]
    _rewrite(folder / CKPT, **patch)
    with pytest.raises(StorageError, match=f"^{folder / CKPT}: corrupt checkpoint"):
        load_checkpoint(folder / CKPT)
    code, _, err = cli(*resume)
    assert code == 4 and err.count("\n") == 1, err
    assert err.startswith(f"linsgd train: error: {folder / CKPT}: corrupt checkpoint") and said in err, err
    assert "delete it and train again without --resume" in err


def test_the_rewritten_but_unchanged_checkpoint_still_resumes(cli, run):
    folder, resume = run
    _rewrite(folder / CKPT)
    code, _, err = cli(*resume)
    assert code == 0, err
