#!/usr/bin/env python3
"""How many training plans `llmcalc plan` evaluates per second on one core (issue 18's target: at least 10,000).

Each candidate layout is checked for memory (estimate_memory) and, if it fits, timed (formulas.plan.step_time).
The rate is candidates evaluated over the wall time of the whole search, the best of --repeat runs.

    python benchmarks/plan.py                      # a line per model and a verdict
    python benchmarks/plan.py --check              # exit status 1 if the target is missed
"""

from __future__ import annotations

import argparse
import time

from llmcalc.roofline import plan

CASES = [  # (model, GPUs, global batch, sequence)
    ("llama3-8b", 64, 512, 8192),
    ("llama3-70b", 256, 1024, 8192),
    ("mixtral-8x7b", 64, 512, 4096),
    ("gpt3-175b", 1024, 1536, 2048),
]
TARGET = 10_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    worst = float("inf")
    for name, gpus, batch, seq in CASES:
        best = 0.0
        for _ in range(args.repeat):
            start = time.perf_counter()
            evaluated, _, fitting = plan(name, n_gpus=gpus, gpu_memory=80 * 2**30, peak_flops=989.4e12,
                                         link_bandwidth=450e9, network_bandwidth=50e9, seq=seq, global_batch=batch)
            best = max(best, evaluated / (time.perf_counter() - start))
        worst = min(worst, best)
        print(f"{name:14} {gpus:5} GPUs  {evaluated:6,} layouts ({fitting:,} fit)  {best:10,.0f} per second")
    verdict = "ok" if worst >= TARGET else "MISSED"
    print(f"slowest {worst:,.0f} plans per second; target at least {TARGET:,}: {verdict}")
    return 1 if args.check and worst < TARGET else 0


if __name__ == "__main__":
    raise SystemExit(main())
