"""Markdown for the results: one table per workload, the bandwidth bound, the issue's targets."""

from __future__ import annotations

from dataclasses import dataclass, field

from scoring import Row

from peers import FUSED, REFERENCE


@dataclass
class WorkloadResult:
    """Everything measured on one workload."""

    title: str
    name: str
    rows: list[Row]
    opt_loss: float
    bytes_per_example: int
    bound: float  # examples/s that the streaming-read bandwidth of all cores allows
    bound_one_core: float  # ... and of one core
    whole: dict | None = None  # wholeprocess.compare() for the seed workload
    notes: list[str] = field(default_factory=list)

    def rate(self, peer: str) -> float | None:
        """Examples/s of ``peer``, None when it did not run."""
        return next((r.rate for r in self.rows if r.peer == peer and r.error is None), None)


def fmt_rate(v: float | None) -> str:
    """12.3 M, 456 k, 1.2 G."""
    if v is None:
        return "n/a"
    for scale, unit in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if v >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def fmt_ratio(v: float | None) -> str:
    """0.0123×, 4.56×, 1,530×."""
    if v is None:
        return ""
    return f"{v:,.0f}×" if v >= 100 else f"{v:.3g}×"


def _baseline(result: WorkloadResult) -> tuple[str, float | None]:
    """The peer the ratio column compares with: linsgd-fused, else linsgd-reference."""
    for peer in (FUSED, REFERENCE):
        if result.rate(peer):
            return peer, result.rate(peer)
    return FUSED, None


def _cells(row: Row, base: float | None) -> list[str]:
    """The table cells of one row."""
    if row.error is not None:
        return [row.peer, "n/a (not available)", "", "", "", "", "", row.error]
    mark = " †" if row.prefix else ""
    t5 = ("not reached" if row.time_to_target is None
          else f"{row.time_to_target:.3g} s (epoch {row.target_epoch}){mark}")
    return [row.peer, fmt_rate(row.rate), fmt_ratio(row.rate / base if base else None),
            f"{row.final_loss:.4g}{mark}", f"{row.w_err:.2e}{mark}", f"{row.b_err:.2e}{mark}", t5,
            "; ".join(row.notes)]


def table(result: WorkloadResult) -> list[str]:
    """The markdown table of a workload, with its heading and footnotes."""
    base_name, base = _baseline(result)
    head = ["peer", "examples/s", f"vs {base_name}", "final full-data loss", "max |w − w_true|",
            "|b − b_true|", "time to 5 % of optimum", "notes"]
    lines = [f"## {result.title}", "",
             f"Least-squares optimum loss (mean ½(ŷ − y)², float64): {result.opt_loss:.6g}. "
             f"Streaming bounds ({result.bytes_per_example} bytes per example): one core "
             f"{fmt_rate(result.bound_one_core)} examples/s, all cores {fmt_rate(result.bound)} examples/s; "
             f"linsgd-fused reaches {_fraction(result, result.bound_one_core)} and "
             f"{_fraction(result, result.bound)} of them.", "",
             _md_row(head), "|" + "---|" * len(head)]
    lines += [_md_row(_cells(r, base)) for r in result.rows]
    if any(r.prefix for r in result.rows):
        lines += ["", "† trained on a prefix of the rows (see notes): its throughput does not depend on n; "
                      "its loss and errors are still evaluated on the full data."]
    lines += [f"- {note}" for note in result.notes]
    if result.whole:
        lines += ["", *_whole_lines(result.whole)]
    return lines + [""]


def _md_row(cells: list[str]) -> str:
    """A markdown table line; a "|" inside a cell (as in |w − w_true|) is escaped."""
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _fraction(result: WorkloadResult, bound: float) -> str:
    fused = result.rate(FUSED)
    return "n/a" if fused is None else f"{fused / bound:.1%}"


def _whole_lines(whole: dict) -> list[str]:
    """Whole-process timings of the seed workload."""
    lines = ["Whole process (wall, median after one untimed warm-up run each):"]
    for name, t in whole.items():
        if t.median is None:
            lines.append(f"- {name}: n/a ({t.error})")
        else:
            runs = ", ".join(f"{s:.2f}" for s in t.runs)
            lines.append(f"- {name}: {t.median:.2f} s (runs: {runs})")
    for other in ("chapter script", "chapter script + scatter plot"):
        ratio = whole_ratio(whole, other)
        lines.append(f"- ratio linsgd demo / {other}: {'n/a' if ratio is None else f'{ratio:.2f}'}")
    return lines


def whole_ratio(whole: dict | None, other: str = "chapter script") -> float | None:
    """linsgd demo's median over ``other``'s (the plain chapter script by default), None when missing."""
    if not whole or other not in whole:
        return None
    demo, chapter = whole["linsgd demo"].median, whole[other].median
    return None if demo is None or chapter is None else demo / chapter


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


# (workload, what is promised, measured value from the result, limit, "≥" or "≤", how to print it)
TARGETS = [
    ("large", "linsgd-fused ≥ 100 M examples/s", lambda r: r.rate(FUSED), 100e6, "≥", fmt_rate),
    ("large", "linsgd-fused ≥ 15× sklearn", lambda r: _ratio(r.rate(FUSED), r.rate("sklearn")), 15, "≥",
     fmt_ratio),
    ("large", "linsgd-fused ≥ 1,500× chapter", lambda r: _ratio(r.rate(FUSED), r.rate("chapter")), 1500,
     "≥", fmt_ratio),
    ("wide", "linsgd-fused ≥ 50 % of the one-core streaming bound (the issue's ≈ 30 M/s)",
     lambda r: _ratio(r.rate(FUSED), r.bound_one_core), 0.5, "≥", lambda v: f"{v:.1%}"),
    ("wide", "linsgd-fused ≥ 50 % of the all-core streaming bound",
     lambda r: _ratio(r.rate(FUSED), r.bound), 0.5, "≥", lambda v: f"{v:.1%}"),
    ("seed", "linsgd demo whole process ≤ 0.5× the chapter script's", lambda r: whole_ratio(r.whole), 0.5,
     "≤", lambda v: f"{v:.2f}×"),
]


def targets(results: dict[str, WorkloadResult], quick: bool) -> list[str]:
    """PASS / FAIL / n/a lines for the issue's targets, from the numbers measured in this run."""
    lines = ["## Targets, from this run", ""]
    if quick:
        lines += ["(--quick: the data is 100× smaller than the targets assume; indicative only)", ""]
    for workload, promise, measure, limit, sense, fmt in TARGETS:
        if workload not in results:
            lines.append(f"- not run — {workload}: {promise}")
            continue
        value = measure(results[workload])
        if value is None:
            lines.append(f"- n/a — {workload}: {promise} (not measured)")
            continue
        ok = value >= limit if sense == "≥" else value <= limit
        lines.append(f"- {'PASS' if ok else 'FAIL'} — {workload}: {promise} (measured {fmt(value)})")
    return lines + [""]
