"""`linsgd demo --animate`: a GIF of every step whose arrows are the steps SGD really took."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from linsgd.config import TrainConfig
from linsgd.data.batching import epoch_order
from linsgd.data.synthetic import make_regression
from linsgd.plots import animation
from linsgd.sgd.trace import trace


def test_the_minibatch_arrow_is_the_step_taken_and_the_full_one_the_loss_gradient():
    X, y = make_regression(57, [2, -3.4], 4.2, seed=0)
    t = trace(X, y, TrainConfig(lr=0.1, epochs=2, batch_size=10, seed=3, engine="fused", solver="sgd", average=False))
    per_epoch = 6
    batches = [epoch_order(3, e, 57)[k * 10:(k + 1) * 10] for e in range(2) for k in range(per_epoch)]
    f = animation.film(X, y, t.w, t.b, batches, 0.1, [0, 2], 1, t.loss, t.epoch_ends)
    theta = np.column_stack([t.w, t.b])[:, [0, 2]]
    np.testing.assert_allclose(f.batch_step, np.diff(theta, axis=0), atol=2e-6)  # the update SGD made
    X64, y64 = X.astype(np.float64), y.astype(np.float64)

    def loss(w, b):
        return 0.5 * np.mean((X64 @ w + b - y64) ** 2)

    k, h = 4, 1e-6
    w, b = t.w[k], t.b[k]
    dw0 = (loss(w + [h, 0], b) - loss(w - [h, 0], b)) / (2 * h)
    db = (loss(w, b + h) - loss(w, b - h)) / (2 * h)
    np.testing.assert_allclose(f.full_step[k], [-0.1 * dw0, -0.1 * db], rtol=1e-5)
    assert f.batches[5].tolist()[:7] == batches[5].tolist() and f.batches[5, 7:].tolist() == [-1] * 3  # short last
    np.testing.assert_allclose(f.slope, t.w[:, 1]) and np.testing.assert_allclose(f.intercept, t.b)


def test_frames_cover_the_first_steps_one_by_one_and_fit_in_ten_seconds():
    steps = animation.frame_steps(301)
    assert steps[:animation.EVERY_STEP].tolist() == list(range(animation.EVERY_STEP))
    assert steps[-1] == 300 and len(steps) <= animation.MAX_FRAMES and np.all(np.diff(steps) > 0)
    assert len(steps) / animation.FPS < 10
    assert animation.frame_steps(8).tolist() == list(range(8))


def test_a_seeded_animation_writes_the_same_gif_twice(cli, tmp_path):
    flags = ["demo", "--seed", "2", "--num-examples", "60", "--epochs", "2", "--animate"]
    assert cli(*flags, "--out", tmp_path / "a")[0] == 0
    assert cli(*flags, "--out", tmp_path / "b")[0] == 0
    gif = (tmp_path / "a" / "demo.gif").read_bytes()
    assert gif.startswith(b"GIF8") and gif == (tmp_path / "b" / "demo.gif").read_bytes()
    with Image.open(tmp_path / "a" / "demo.gif") as im:
        assert im.n_frames == 13 and im.info["duration"] == 1000 / animation.FPS
    assert cli(*flags[:-1], "--seed", "3", "--animate", "--out", tmp_path / "c")[0] == 0
    assert (tmp_path / "c" / "demo.gif").read_bytes() != gif


@pytest.mark.parametrize("flags", [["--lr", "auto"], ["--solver", "exact"], ["--compare", "lr=0.1,0.2"],
                                   ["--epochs", "100"]])
def test_animate_refuses_what_it_cannot_draw(cli, tmp_path, flags):
    rc, out, err = cli("demo", "--animate", *flags, "--out", tmp_path / "never")
    assert rc == 2 and err.startswith("linsgd demo: error: --animate") and not (tmp_path / "never").exists()


def test_a_diverging_run_says_why_it_has_no_film(cli, tmp_path):
    rc, out, err = cli("demo", "--seed", "1", "--lr", "3", "--animate", "--out", tmp_path)
    assert rc == 3 and "note: --animate draws no demo.gif for a run that diverged" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "trajectory.png"]
