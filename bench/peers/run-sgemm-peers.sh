#!/usr/bin/env bash
# numpy + OpenBLAS SGEMM on the SgemmBenchmark shapes, 1 and 2 threads.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are preset on this machine kind and force slower AVX2 kernels,
# so they are unset: OpenBLAS then autodetects its AVX-512 kernels.
# usage: bench/peers/run-sgemm-peers.sh [SHAPE ...]     (e.g. 1024x1024x1024; default all)
# REPS (timed calls, default 15) and WARMUP (seconds, default 1) are passed through.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
for n in 1 2; do
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$n \
        /usr/bin/python3 "$here/sgemm_numpy.py" "$@"
done
