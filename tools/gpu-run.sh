#!/usr/bin/env bash
# The one-command device check of mvarj on a GPU machine without Java (docs/gpu.md#the-device-check): the bundle
# of tools/gpu-bundle.sh carries a jlinked Java 25 runtime, the benchmarks and the device tests. Copied into the
# bundle as run.sh.
# Usage: run.sh [RESULTS_DIR]      (default ./gpu-results)
# Every phase runs under its own deadline (timeout) and the whole check stays under 8 minutes; a phase that fails
# or times out is reported and the next one runs. Phases and their results (RESULTS_DIR/*.txt):
#   host   kernel, glibc, GPU and driver (nvidia-smi), OpenCL ICD registrations and loaders      15 s
#   info   mvarj info: the OpenCL devices as the backend sees them                              40 s
#   tests  the gpu-backends tests on the device, by class name                                 170 s
#   gemm   GFLOP/s of 2048³ products, NN, NT and TN                                             60 s
#   var    the depth-16 VAR training step (batch 32, 256-px schedule)                          75 s
#   mvar   the same for MVAR                                                                    75 s
#   util.csv  GPU utilisation and memory every 500 ms over tests..mvar, when nvidia-smi works
# Environment: QUICK=1 a short run of every phase (CI runs it on PoCL: two test classes, 128³ products, the
# default model's steps); DEVICE (default opencl); TESTS (test classes, short names, space-separated).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/gpu-host.sh"
RESULTS=$(mkdir -p "${1:-gpu-results}" && cd "${1:-gpu-results}" && pwd)
QUICK=${QUICK:-0}
DEVICE=${DEVICE:-opencl}
SUMMARY="$RESULTS/summary.txt"
: > "$SUMMARY"
START=$SECONDS

# phase NAME SECONDS COMMAND...: runs the command under its deadline, output to the terminal and NAME.txt
phase() {
  local name=$1 limit=$2 rc t0=$SECONDS
  shift 2
  echo "== $name (deadline ${limit} s)"
  timeout --kill-after=5 "$limit" "$@" > >(tee "$RESULTS/$name.txt") 2>&1
  rc=$?
  sleep 0.2                                   # let tee finish writing
  local status=ok
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    status="timed out after ${limit} s"
  elif [ "$rc" -ne 0 ]; then
    status="failed (exit $rc)"
  fi
  echo "$name: $status in $((SECONDS - t0)) s" | tee -a "$SUMMARY"
  return 0
}

phase host 15 bash -c ". '$HERE/gpu-host.sh'; host_facts"

# the runtime: unpacked next to the bundle, or in a temporary directory when the bundle is read-only
RT="$HERE/runtime"
if [ ! -x "$RT/bin/java" ]; then
  if ! tar -C "$HERE" -xzf "$HERE/runtime.tar.gz" 2>/dev/null; then
    RT="$(mktemp -d)/runtime"
    tar -C "$(dirname "$RT")" -xzf "$HERE/runtime.tar.gz"
  fi
fi
JAVA="$RT/bin/java"

# OpenCL: the machine's ICD loader when it has one, else the bundled one where this glibc can load it
if ! has_lib 'libOpenCL\.so\.1 '; then
  need=$(cat "$HERE/lib/REQUIRES_GLIBC" 2>/dev/null || echo 0)
  have=$(glibc_version)
  if [ -n "$have" ] && version_ge "$have" "$need"; then
    export LD_LIBRARY_PATH="$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "loader: the bundled libOpenCL.so.1 (needs glibc $need, host has $have)" | tee -a "$SUMMARY"
  else
    echo "loader: none on this host and the bundled one needs glibc $need (host: ${have:-unknown});" \
         "install ocl-icd-libopencl1 or the driver's loader" | tee -a "$SUMMARY"
  fi
fi
# containers often get NVIDIA's driver library without its ICD registration file: register it for the loader
if [ -z "${OCL_ICD_VENDORS:-}" ] && ! compgen -G '/etc/OpenCL/vendors/*.icd' >/dev/null \
   && has_lib 'libnvidia-opencl\.so\.1'; then
  mkdir -p "$RT/vendors"
  echo libnvidia-opencl.so.1 > "$RT/vendors/nvidia.icd"
  export OCL_ICD_VENDORS="$RT/vendors"
  echo "icd: registered libnvidia-opencl.so.1 through OCL_ICD_VENDORS=$OCL_ICD_VENDORS" | tee -a "$SUMMARY"
fi
# driver signal handlers chained with the JVM's (see README, gpu-backends)
export LD_PRELOAD="$RT/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"
CP="$HERE/benchmarks.jar:$HERE/tests/*"
JVM=("$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -cp "$CP")

phase info 40 "${JVM[@]}" dev.mvarj.mvar.cli.Main info

# GPU utilisation over the device phases, when nvidia-smi works
TRACE=
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,utilization.memory,memory.used --format=csv -lms 500 \
    > "$RESULTS/util.csv" 2>&1 &
  TRACE=$!
fi

if [ "$QUICK" = 1 ]; then
  TESTS=${TESTS:-OpenClDiagnosticsTest OpenClGemmTest}
  GEMM=128 SIZE=fashion STEPS=0 TLIMIT=120
else
  TESTS=${TESTS:-OpenClBackendTest OpenClKernelsTest OpenClGemmTest OpenClAttentionVisionTest OpenClDiagnosticsTest OpenClTrainingTest}
  GEMM=2048 SIZE=d16 STEPS=3 TLIMIT=170
fi
CLASSES=()
for t in $TESTS; do CLASSES+=("dev.mvarj.gpu.$t"); done
MVARJ_REQUIRE_OPENCL=1 phase tests "$TLIMIT" "${JVM[@]}" dev.mvarj.gpu.DeviceTestRunner "${CLASSES[@]}"
phase gemm 60 "${JVM[@]}" dev.mvarj.bench.DeviceCheck gemm "$DEVICE" "$GEMM" nn nt tn
phase var 75 "${JVM[@]}" dev.mvarj.bench.DeviceCheck step "$DEVICE" "$SIZE" var "$STEPS"
phase mvar 75 "${JVM[@]}" dev.mvarj.bench.DeviceCheck step "$DEVICE" "$SIZE" mvar "$STEPS"

if [ -n "$TRACE" ]; then
  kill "$TRACE" 2>/dev/null
  wait "$TRACE" 2>/dev/null
  echo "util: $(($(wc -l < "$RESULTS/util.csv") - 1)) samples in util.csv" | tee -a "$SUMMARY"
fi
echo "total: $((SECONDS - START)) s; results in $RESULTS" | tee -a "$SUMMARY"
# the exit status says whether every phase passed
! grep -q -e 'failed' -e 'timed out' "$SUMMARY"
