#!/usr/bin/env python3
"""How fast llmcalc answers, measured side by side in one run (issue 6's three targets).

1. start-up: wall time of `llmcalc count gpt2-small` (the table path, which loads rich) against
   `python -c "import click, yaml, rich.console"` (the bare imports any click + rich tool pays), runs interleaved
   so both see the same machine state; target: at most 1.5x. Beside it, the JSON path
   (`llmcalc count gpt2-small --format json`, which loads no rich), reported, not judged.
2. `llmcalc verify` of every built-in spec: wall time of the whole process; target: under 1 s.
3. one parameter count through the Python API once the spec is loaded (`llmcalc.count_params(model)`),
   the best of several timeit repeats; target: under 50 microseconds, for every built-in spec.

Run it with the interpreter of the environment llmcalc is installed in (the `llmcalc` script is looked for
beside it, then on PATH):

    python benchmarks/startup.py                 # table and a verdict per target
    python benchmarks/startup.py --markdown      # the table the README reports
    python benchmarks/startup.py --json          # figures for a machine
    python benchmarks/startup.py --check         # exit status 1 if a target is missed

Only the standard library is used. Child processes run with NO_COLOR=1 and COLUMNS=100 and without
PYTHONDONTWRITEBYTECODE (an environment that cannot cache bytecode recompiles every module at each start,
which measures the sandbox, not the tool); the first runs of each command are warm-ups and are dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import timeit

STARTUP_TARGET = 1.5  # llmcalc count / bare imports
VERIFY_TARGET = 1.0  # seconds
API_TARGET = 50e-6  # seconds per count
API_MODELS = ("gpt2-small", "llama3-8b", "mixtral-8x7b", "deepseek-v3")


def machine() -> str:
    """The CPU model, logical cores, OS and Python: what the figures came from."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def llmcalc_script() -> str:
    """The `llmcalc` entry point of this interpreter's environment."""
    beside = os.path.join(os.path.dirname(sys.executable), "llmcalc")
    found = beside if os.path.exists(beside) else shutil.which("llmcalc")
    if not found:
        sys.exit("benchmarks/startup.py: no `llmcalc` script beside this Python or on PATH; install llmcalc first")
    return found


def child_env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def wall_times(commands: dict[str, list[str]], runs: int, warmup: int) -> dict[str, list[float]]:
    """Wall time of each command, `runs` times, interleaved; the first `warmup` rounds are dropped."""
    env = child_env()
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(warmup + runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"benchmarks/startup.py: `{' '.join(argv)}` failed:\n{done.stderr.decode()}")
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def api_times(names: tuple[str, ...], repeat: int, number: int = 1000) -> dict[str, float]:
    """Best per-call time of `llmcalc.count_params(model)` with the spec already loaded."""
    import llmcalc

    out = {}
    for name in names:
        model = llmcalc.load(name)
        llmcalc.count_params(model)
        timer = timeit.Timer(lambda: llmcalc.count_params(model))
        out[name] = min(timer.repeat(repeat=repeat, number=number)) / number
    return out


def worst_api_time(repeat: int) -> tuple[str, float]:
    """The slowest built-in spec to count, so the target holds for all of them, not a chosen few."""
    import llmcalc

    times = api_times(tuple(llmcalc.builtin_names()), max(1, repeat // 2), 200)
    name = max(times, key=times.__getitem__)
    return name, times[name]


def measure(runs: int, warmup: int, repeat: int) -> dict:
    script = llmcalc_script()
    times = wall_times({
        "llmcalc count gpt2-small": [script, "count", "gpt2-small"],
        "llmcalc count gpt2-small --format json": [script, "count", "gpt2-small", "--format", "json"],
        'python -c "import click, yaml, rich.console"': [sys.executable, "-c", "import click, yaml, rich.console"],
        "llmcalc verify": [script, "verify"],
    }, runs, warmup)
    count, count_json, imports, verify = (statistics.median(t) for t in times.values())
    api = api_times(API_MODELS, repeat)
    worst_name, worst = worst_api_time(repeat)
    import llmcalc

    return {
        "machine": machine(),
        "llmcalc": llmcalc.__version__,
        "runs": runs,
        "startup": {"count_s": count, "count_json_s": count_json, "imports_s": imports, "ratio": count / imports,
                    "target": STARTUP_TARGET},
        "verify": {"wall_s": verify, "target_s": VERIFY_TARGET, "models": len(llmcalc.builtin_names())},
        "api": {"per_call_s": api, "worst_builtin": {"model": worst_name, "per_call_s": worst},
                "target_s": API_TARGET},
    }


def verdicts(result: dict) -> list[tuple[str, str, str, bool]]:
    """(measure, figure, target, met) for each target."""
    s, v, a = result["startup"], result["verify"], result["api"]
    worst = a["worst_builtin"]
    rows = [
        ("`llmcalc count gpt2-small`", f"{s['count_s'] * 1e3:.0f} ms", "", True),
        ("`llmcalc count gpt2-small --format json`", f"{s['count_json_s'] * 1e3:.0f} ms", "", True),
        ('`python -c "import click, yaml, rich.console"`', f"{s['imports_s'] * 1e3:.0f} ms", "", True),
        ("start-up ratio", f"{s['ratio']:.2f}x", f"at most {s['target']}x", s["ratio"] <= s["target"]),
        (f"`llmcalc verify` ({v['models']} specs)", f"{v['wall_s'] * 1e3:.0f} ms", "under 1 s",
         v["wall_s"] < v["target_s"]),
    ]
    for name, t in a["per_call_s"].items():
        rows.append((f"`count_params` {name}", f"{t * 1e6:.1f} µs", "under 50 µs", t < a["target_s"]))
    rows.append((f"`count_params` slowest built-in ({worst['model']})", f"{worst['per_call_s'] * 1e6:.1f} µs",
                 "under 50 µs", worst["per_call_s"] < a["target_s"]))
    return rows


def markdown(result: dict) -> str:
    lines = [f"Machine: {result['machine']}; llmcalc {result['llmcalc']}; medians of {result['runs']} runs.", "",
             "| measure | figure | target | met |", "|---|---:|---|---|"]
    for measure_, figure, target, met in verdicts(result):
        verdict = ("yes" if met else "**no**") if target else ""
        lines.append(f"| {measure_} | {figure} | {target} | {verdict} |")
    return "\n".join(lines)


def text(result: dict) -> str:
    rows = verdicts(result)
    width = max(len(r[0]) for r in rows)
    out = [f"machine: {result['machine']}", f"llmcalc {result['llmcalc']}, medians of {result['runs']} runs", ""]
    for measure_, figure, target, met in rows:
        verdict = ("ok" if met else "MISSED") if target else ""
        out.append(f"{measure_.replace('`', ''):<{width}}  {figure:>10}  {target:<12} {verdict}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="measured runs of each command (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="rounds run first and dropped (default 3)")
    parser.add_argument("--repeat", type=int, default=7, help="timeit repeats per API count (default 7)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the figures as JSON")
    shape.add_argument("--markdown", action="store_true", help="print the README's table")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("--runs and --repeat must be at least 1, --warmup at least 0")

    result = measure(args.runs, args.warmup, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.markdown:
        print(markdown(result))
    else:
        print(text(result))
    missed = [row[0] for row in verdicts(result) if row[2] and not row[3]]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
