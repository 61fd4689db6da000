#!/usr/bin/env bash
# PyTorch peer for TransformerBlockBenchmark, 1 and 2 threads. Needs Debian's python3-torch and libopenblas0-pthread.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset in this command only (they force AVX2 kernels here); the
# allocator and OpenMP settings follow a tuned PyTorch runtime (glibc keeps large blocks).
set -euo pipefail
cd "$(dirname "$0")"
for t in 1 2; do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295 \
    /usr/bin/python3 block_torch.py $t
done
