#!/usr/bin/env bash
# Runs mvarj's device benchmarks where a GPU is and Java is not: the bundle of tools/gpu-bundle.sh carries its
# own Java 25 runtime. Copied into the bundle as run.sh.
# Usage: run.sh [RESULTS_DIR]      (default ./gpu-results)
# Environment:
#   DEVICE   the devices to benchmark, JMH list syntax (default: opencl; e.g. opencl,cpu)
#   SIZES    training-step model sizes (default: fashion,d16 — d16 is VAR-d16 at 256 px, for a real GPU)
#   MODELS   var,mvar (default both)
#   BENCH    JMH benchmark regex (default: DeviceGemmBenchmark|TrainingStepBenchmark)
#   JMH_ARGS extra JMH options (e.g. "-wi 1 -i 2")
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RESULTS=$(mkdir -p "${1:-gpu-results}" && cd "${1:-gpu-results}" && pwd)

# the runtime: unpacked next to the bundle, or in a temporary directory when the bundle is read-only
RT="$HERE/runtime"
if [ ! -x "$RT/bin/java" ]; then
  if ! tar -C "$HERE" -xzf "$HERE/runtime.tar.gz" 2>/dev/null; then
    RT="$(mktemp -d)/runtime"
    tar -C "$(dirname "$RT")" -xzf "$HERE/runtime.tar.gz"
  fi
fi
JAVA="$RT/bin/java"

# the shared libraries the dynamic linker knows
libs() { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; }

# OpenCL: the machine's ICD loader when it has one, else the bundled one
if ! libs | grep -q 'libOpenCL\.so\.1 '; then
  export LD_LIBRARY_PATH="$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# containers often get NVIDIA's driver library without its ICD registration file: register it for the loader
if [ -z "${OCL_ICD_VENDORS:-}" ] && ! ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 \
   && libs | grep -q 'libnvidia-opencl\.so\.1'; then
  mkdir -p "$RT/vendors"
  echo libnvidia-opencl.so.1 > "$RT/vendors/nvidia.icd"
  export OCL_ICD_VENDORS="$RT/vendors"
fi
# driver signal handlers chained with the JVM's (see README, gpu-backends)
export LD_PRELOAD="$RT/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"

FLAGS=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
{
  echo "== $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores"
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  "$JAVA" "${FLAGS[@]}" -cp "$HERE/benchmarks.jar" dev.mvarj.mvar.cli.Main info 2>&1 | grep -v 'incubator modules'
} | tee "$RESULTS/info.txt"

# shellcheck disable=SC2086
"$JAVA" "${FLAGS[@]}" -jar "$HERE/benchmarks.jar" "${BENCH:-DeviceGemmBenchmark|TrainingStepBenchmark}" \
  -p device="${DEVICE:-opencl}" -p size="${SIZES:-fashion,d16}" -p model="${MODELS:-var,mvar}" \
  -rf json -rff "$RESULTS/jmh.json" ${JMH_ARGS:-} 2>&1 | grep -v 'incubator modules' | tee "$RESULTS/jmh.txt"
echo "results: $RESULTS" >&2
