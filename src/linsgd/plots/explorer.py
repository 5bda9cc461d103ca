"""``linsgd demo --html``: one standalone HTML file to play with SGD — sliders, an in-page SGD, SVG.

The page holds the demo's data as JSON and runs the chapter's minibatch SGD itself (plain JavaScript, no
library, no server, no network): moving a slider for the learning rate, the batch size, the initial
weights' std or the seed reruns it and redraws the loss after every step and the path of two
coordinates over the contours of the loss. The page draws its own random initial weights and epoch
orders from the seed (not numpy's stream), so its runs are the chapter's algorithm, not linsgd's runs
step for step; with init std 0 and a batch of all examples (no randomness left) they coincide
(``tests/test_explorer.py``).
"""

from __future__ import annotations

import json
import os
from importlib import resources

import numpy as np

from linsgd.plots.demo import Bowl
from linsgd.storage import atomic_path

MAX_VALUES = 2_000_000  # features embedded in the page (n × d); more makes a page browsers load slowly
LRS = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1, 1.5, 2, 3)  # the sliders' values
BATCHES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
STDS = (0, 0.01, 0.1, 1, 10, 100)

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>linsgd: SGD explorer</title>
<style>
body {{ font: 14px sans-serif; margin: 16px; color: #222; }}
label {{ display: inline-block; width: 300px; margin: 4px 12px 4px 0; }}
input[type=range] {{ width: 150px; vertical-align: middle; }}
svg {{ border: 1px solid #eee; margin: 8px 8px 0 0; }}
.key {{ font-size: 12px; color: #555; }}
</style></head><body>
<h2>Minibatch SGD on y = Xw + b + ε: move a slider</h2>
<p class="key">{about}</p>
<div>
<label>learning rate <input id="lr" type="range" min="0" max="{lr_max}" step="1" value="{lr}"> <b id="lr-v"></b></label>
<label>batch size <input id="batch" type="range" min="0" max="{batch_max}" step="1" value="{batch}">
<b id="batch-v"></b></label>
<label>init std <input id="std" type="range" min="0" max="{std_max}" step="1" value="{std}"> <b id="std-v"></b></label>
<label>seed <input id="seed" type="range" min="0" max="20" step="1" value="{seed}"> <b id="seed-v"></b></label>
</div>
<div><svg id="loss" width="460" height="340"></svg><svg id="where" width="460" height="340"></svg></div>
<p id="status"></p>
<p class="key">Left: the loss on all examples after every step (log scale; □ the end, × a blow-up); green dashed
σ²/2 = {floor:.3g}, the expected loss of the true (w, b) on fresh data; purple dash-dot {loss_opt:.3g}, the
least-squares optimum's loss on these examples. Right: the path of ({names}) from ○ over the contours of the
loss (the other parameters at the optimum ★).</p>
<script>
const DATA = {data};
</script>
<script>
{script}
</script>
</body></html>
"""


def _nearest(options, value: float) -> int:
    """The index of the option nearest ``value`` on a log scale."""
    return int(np.argmin([abs(np.log10(max(o, 1e-9)) - np.log10(max(value, 1e-9))) for o in options]))


def write(X: np.ndarray, y: np.ndarray, path: str | os.PathLike, *, bowl: Bowl, idx: list[int], optimum: np.ndarray,
          floor: float, epochs: int, limits: dict[int, float], start: dict, about: str) -> None:
    """Write the explorer page for the data (X, y) at ``path`` (atomically).

    Args:
        X: (n, d) features. y: (n,) labels. bowl: the loss over the two coordinates ``idx`` of θ = (w, b).
        optimum: θ* (d + 1,), the centre of the contours. floor: σ²/2. epochs: the epochs each run trains.
        limits: {batch size: mean-square stability limit} for the slider's batch sizes (shown as advice).
        start: the sliders' first values: ``lr``, ``batch``, ``init_std``, ``seed``. about: a line on top.
    """
    def rounded(a):
        return np.round(np.asarray(a, dtype=np.float64), 6).tolist()

    data = {"X": rounded(X), "y": rounded(y), "idx": list(idx), "names": list(bowl.names), "opt": rounded(optimum),
            "H2": rounded(bowl.H), "lossOpt": float(bowl.loss), "floor": float(floor), "epochs": int(epochs),
            "limits": {str(k): float(v) for k, v in limits.items() if np.isfinite(v)},
            "lrs": list(LRS), "batches": list(BATCHES), "stds": list(STDS)}
    script = resources.files("linsgd.plots").joinpath("explorer_page.js").read_text(encoding="utf-8")
    page = _PAGE.format(
        about=about, floor=floor, loss_opt=bowl.loss, names=", ".join(bowl.names),
        lr=_nearest(LRS, start["lr"]), batch=_nearest(BATCHES, start["batch"]),
        std=int(np.argmin([abs(s - start["init_std"]) for s in STDS])),
        lr_max=len(LRS) - 1, batch_max=len(BATCHES) - 1, std_max=len(STDS) - 1,
        seed=min(max(int(start["seed"]), 0), 20),
        data=json.dumps(data, separators=(",", ":")).replace("</", "<\\/"), script=script)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
