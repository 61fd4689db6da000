#!/usr/bin/env bash
# PyTorch peer for TokenizerStepBenchmark and Conv2dBenchmark, 1 and 2 threads. Needs Debian's python3-torch and
# libopenblas0-pthread. OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset in this command only; the allocator and
# OpenMP settings are those of run-block-peer.sh.
set -euo pipefail
cd "$(dirname "$0")"
for t in 1 2; do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295 \
    /usr/bin/python3 "${1:-tokenizer_step_torch.py}" $t
done
