#!/usr/bin/env bash
# Runs a PyTorch peer on 1 and then 2 threads: bench/peers/run-torch-peer.sh SCRIPT [ARGS...], e.g.
#   run-torch-peer.sh block_torch.py               TransformerBlockBenchmark's peer
#   run-torch-peer.sh tokenizer_step_torch.py      TokenizerStepBenchmark's peer
#   run-torch-peer.sh conv2d_torch.py              Conv2dBenchmark's peer
#   run-torch-peer.sh transformer_step_torch.py    TrainingStepBenchmark's peer (var and mvar)
# Needs Debian's python3-torch and libopenblas0-pthread; each script prints the BLAS it loaded.
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset in this command only (they force AVX2 kernels here); the
# allocator and OpenMP settings follow a tuned PyTorch runtime (glibc keeps large blocks).
set -euo pipefail
cd "$(dirname "$0")"
script=${1:?usage: run-torch-peer.sh SCRIPT [ARGS...]}
shift
for t in 1 2; do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE \
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295 \
    /usr/bin/python3 "$script" $t "$@"
done
