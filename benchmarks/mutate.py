"""Mutation testing of the modules that carry the math (``make mutate``; slow, not part of ``make test``).

For each module of ``mutation/modules.toml``, cosmic-ray makes every mutant the operators of
``mutation/operators.toml`` allow (one small change of the source: ``+`` for ``-``, ``<`` for ``<=``, a number
moved by one, a condition negated, a loop run zero times…) and runs that module's fast test selection on
each; a mutant is *killed* when a test fails (or the run times out), *survives* when all pass. Every run
works on a copy of ``src/`` and ``tests/`` in a temporary folder, so the working tree is never changed.

Writes ``--out`` (default benchmarks/MUTATION-last.md): per module the mutants made, killed, survived, timed
out, and each survivor as its diff. The maintained report, with each survivor explained, is
benchmarks/MUTATION.md.

Usage:
    python benchmarks/mutate.py [--only NAME ...] [--out FILE] [--timeout SECONDS] [--minutes M]
    python benchmarks/mutate.py --recheck benchmarks/MUTATION-last.md   # survivors against today's tests
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import toml  # (cosmic-ray depends on it; tomllib needs Python 3.11)

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _config(module: dict, operators: dict, timeout: float) -> str:
    tests = " ".join(module["tests"])
    exclude = ",\n    ".join(json.dumps(e) for e in operators["exclude-operators"])
    return (f'[cosmic-ray]\nmodule-path = "{module["path"]}"\ntimeout = {timeout}\nexcluded-modules = []\n'
            f'test-command = "{sys.executable} -m pytest -x -q -p no:randomly -p no:cacheprovider -n 0 {tests}"\n\n'
            f'[cosmic-ray.distributor]\nname = "local"\n\n'
            f'[cosmic-ray.filters.operators-filter]\nexclude-operators = [\n    {exclude},\n]\n')


def run_module(name: str, module: dict, operators: dict, timeout: float, minutes: float | None = None) -> dict:
    """Mutate one module in a copy of the tree; returns the counts and the survivors' diffs."""
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix=f"mutate-{name}-") as tmp:
        work = Path(tmp)
        for part in ("src", "tests"):
            shutil.copytree(ROOT / part, work / part, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
        (work / "cr.toml").write_text(_config(module, operators, timeout))
        env = {**os.environ, "PYTHONPATH": str(work / "src")}  # the copy, not the editable install

        def cr(*args):
            subprocess.run([str(BIN / args[0]), *args[1:]], cwd=work, env=env, check=True,
                           stdout=subprocess.DEVNULL if args[0] != "cosmic-ray" or args[1] != "dump" else None)

        cr("cosmic-ray", "init", "cr.toml", "session.sqlite")
        cr("cr-filter-operators", "session.sqlite", "cr.toml")
        cr("cr-filter-pragma", "session.sqlite")
        execute = subprocess.Popen([str(BIN / "cosmic-ray"), "exec", "cr.toml", "session.sqlite"], cwd=work, env=env,
                                   stdout=subprocess.DEVNULL, start_new_session=True)
        try:
            execute.wait(timeout=minutes * 60 if minutes else None)
        except subprocess.TimeoutExpired:  # out of time: what ran is reported, the rest counted as not run
            os.killpg(execute.pid, signal.SIGTERM)
            execute.wait()
        load.append(os.getloadavg()[0])
        dump = subprocess.run([str(BIN / "cosmic-ray"), "dump", "session.sqlite"], cwd=work, env=env, check=True,
                              capture_output=True, text=True).stdout
    counts = {"made": 0, "killed": 0, "survived": 0, "timeout": 0, "incompetent": 0, "not_run": 0}
    survivors = []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is not None and result["worker_outcome"] == "skipped":  # an operator left out
            continue
        counts["made"] += 1
        if result is None:  # --minutes ran out before this mutant
            counts["not_run"] += 1
            continue
        if result["test_outcome"] == "killed" and result["output"] == "timeout":  # cosmic-ray's mark
            counts["timeout"] += 1
        elif result["test_outcome"] == "survived":
            counts["survived"] += 1
            m = item["mutations"][0]
            survivors.append({"line": m["start_pos"][0], "operator": m["operator_name"], "diff": result["diff"]})
        elif result["test_outcome"] == "incompetent":
            counts["incompetent"] += 1
        else:
            counts["killed"] += 1
    return {"name": name, "path": module["path"], **counts, "survivors": survivors, "load": load}


def recheck(report_path: Path, modules: dict) -> list[dict]:
    """Run each survivor of an earlier report again (its diff applied to a copy of the tree) against the
    module's test selection as it is now: which new tests kill it. Returns one row per survivor."""
    text, rows = report_path.read_text(), []
    by_path = {m["path"]: m for m in modules.values()}
    for section in text.split("\n## ")[1:]:
        path = section.split(": survivors", 1)[0].strip()
        for block in section.split("\nline ")[1:]:
            where, _, rest = block.partition(":\n```diff\n")
            diff = rest.split("\n```", 1)[0].replace("--- mutation diff ---\n", "") + "\n"
            with tempfile.TemporaryDirectory(prefix="recheck-") as tmp:
                work = Path(tmp)
                for part in ("src", "tests"):
                    shutil.copytree(ROOT / part, work / part, ignore=shutil.ignore_patterns("__pycache__"))
                shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
                applied = subprocess.run(["patch", "-p1", "--quiet"], cwd=work, input=diff, text=True,
                                         capture_output=True).returncode == 0
                env = {**os.environ, "PYTHONPATH": str(work / "src")}
                command = (f"{sys.executable} -m pytest -x -q -p no:randomly -p no:cacheprovider -n 0 "
                           + " ".join(by_path[path]["tests"]))
                killed = applied and subprocess.run(command, shell=True, cwd=work, env=env, capture_output=True,
                                                    timeout=600).returncode != 0
            rows.append({"path": path, "where": "line " + where, "applied": applied, "killed": killed})
            print(f"{path} line {where}: {'killed' if killed else 'survives' if applied else 'diff did not apply'}",
                  flush=True)
    return rows


def report(results: list[dict]) -> str:
    out = ["# Mutation testing: last run", "",
           "| module | mutants | killed | timed out | survived | not run | score (of those run) | load (start, end) |",
           "|---|---|---|---|---|---|---|---|"]
    for r in results:
        dead = r["killed"] + r["timeout"] + r["incompetent"]
        out.append(f"| {r['path']} | {r['made']} | {r['killed'] + r['incompetent']} | {r['timeout']} | "
                   f"{r['survived']} | {r['not_run']} | {dead / max(dead + r['survived'], 1):.1%} | "
                   f"{r['load'][0]:.1f}, {r['load'][-1]:.1f} |")
    for r in results:
        out += ["", f"## {r['path']}: survivors", ""]
        for s in r["survivors"]:
            out += [f"line {s['line']}, {s['operator']}:", "```diff", s["diff"].strip(), "```"]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="module names of mutation/modules.toml (default: all)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "MUTATION-last.md"))
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per mutant's tests")
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop a module's run after this long and report the mutants not run (default: no limit); "
                             "cosmic-ray runs the mutants in random order, so a capped run is a random sample")
    parser.add_argument("--recheck", metavar="REPORT",
                        help="instead: run the survivors of an earlier report against the tests as they are now")
    args = parser.parse_args(argv)
    modules = toml.loads((ROOT / "mutation" / "modules.toml").read_text())
    if args.recheck:
        rows = recheck(Path(args.recheck), modules)
        print(f"{sum(r['killed'] for r in rows)} of {len(rows)} earlier survivors killed now")
        return 0
    operators = toml.loads((ROOT / "mutation" / "operators.toml").read_text())
    names = args.only or list(modules)
    unknown = sorted(set(names) - set(modules))
    if unknown:
        print(f"mutate.py: --only {' '.join(unknown)}: not in mutation/modules.toml (known: {', '.join(modules)})",
              file=sys.stderr)
        return 2
    results = []
    for name in names:
        print(f"mutating {modules[name]['path']} …", flush=True)
        results.append(run_module(name, modules[name], operators, args.timeout, args.minutes))
        r = results[-1]
        print(f"  {r['made']} mutants: {r['killed']} killed, {r['timeout']} timed out, {r['survived']} survived, "
              f"{r['not_run']} not run", flush=True)
        Path(args.out).write_text(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
