#!/usr/bin/env python3
"""Converts JMH JSON results of SgemmBenchmark (-rf json -rff FILE) to GFLOP/s = 2*M*N*K / time.

usage: jmh_gflops.py RESULT.json [RESULT2.json ...]
Prints one line per (shape MxKxN, threads): the median GFLOP/s over the given files (each file one JMH run),
and the per-file values.
"""
import json
import statistics
import sys
from collections import defaultdict

UNIT_SECONDS = {"s/op": 1.0, "ms/op": 1e-3, "us/op": 1e-6, "ns/op": 1e-9}

runs = defaultdict(list)
for path in sys.argv[1:]:
    for r in json.load(open(path)):
        if not r["benchmark"].endswith("SgemmBenchmark.gemm"):
            continue
        shape, threads = r["params"]["shape"], int(r["params"]["threads"])
        m, k, n = (int(x) for x in shape.split("x"))
        pm = r["primaryMetric"]
        seconds = pm["score"] * UNIT_SECONDS[pm["scoreUnit"]]
        runs[(shape, threads)].append(2.0 * m * n * k / seconds / 1e9)

for (shape, threads), values in sorted(runs.items(), key=lambda kv: (kv[0][1], [int(x) for x in kv[0][0].split("x")])):
    print(f"{shape:>16} threads={threads} gflops_median={statistics.median(values):7.1f} "
          f"runs={' '.join(f'{v:.1f}' for v in values)}")
