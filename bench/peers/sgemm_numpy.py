#!/usr/bin/env python3
"""numpy (OpenBLAS) SGEMM peer for SgemmBenchmark: C (M, N) = A (M, K) @ B (K, N), float32, row-major.

Run it through run-sgemm-peers.sh, which sets OPENBLAS_NUM_THREADS and unsets the OPENBLAS core overrides.
Prints the BLAS library actually mapped into this process (from /proc/self/maps) and its core type, then per shape
the median GFLOP/s = 2*M*N*K / time over REPS timed calls after WARMUP seconds of warm-up.
"""
import ctypes
import os
import statistics
import sys
import time

import numpy as np

SHAPES = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
          (4096, 128, 384), (4096, 128, 512), (4096, 512, 128)]  # M, K, N
REPS = int(os.environ.get("REPS", "15"))
WARMUP = float(os.environ.get("WARMUP", "1.0"))


def blas_libraries():
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if ("openblas" in name or name.startswith("libblas") or "mkl" in name) and path not in libs:
                libs.append(path)
    return libs


def core_type(libs):
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            fn = lib.openblas_get_corename
            fn.restype = ctypes.c_char_p
            name = fn().decode()
            cfg = lib.openblas_get_config
            cfg.restype = ctypes.c_char_p
            threads = lib.openblas_get_num_threads()
            return f"{name} (config: {cfg().decode()}, threads {threads})"
        except (OSError, AttributeError):
            continue
    return "unknown (no openblas_get_corename: not OpenBLAS?)"


def main():
    rng = np.random.default_rng(42)
    a0 = rng.random((8, 8), dtype=np.float32)
    _ = a0 @ a0  # make sure BLAS is loaded before reading the maps
    libs = blas_libraries()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"BLAS loaded: {' '.join(libs) or 'none found'}")
    print(f"BLAS core: {core_type(libs)}")
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')}")
    only = sys.argv[1:]
    for m, k, n in SHAPES:
        shape = f"{m}x{k}x{n}"
        if only and shape not in only:
            continue
        a = rng.random((m, k), dtype=np.float32) * 2 - 1
        b = rng.random((k, n), dtype=np.float32) * 2 - 1
        c = np.empty((m, n), dtype=np.float32)
        end = time.perf_counter() + WARMUP
        while time.perf_counter() < end:
            np.matmul(a, b, out=c)
        times = []
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        for _ in range(REPS):
            t0 = time.perf_counter()
            np.matmul(a, b, out=c)
            times.append(time.perf_counter() - t0)
        cpu_wall = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        med = statistics.median(times)
        print(f"{shape:>16} threads={os.environ.get('OPENBLAS_NUM_THREADS')} median_ms={med * 1e3:9.3f} "
              f"gflops={2.0 * m * n * k / med / 1e9:7.1f} min_ms={min(times) * 1e3:9.3f} cpu/wall={cpu_wall:.2f}")


if __name__ == "__main__":
    main()
