#!/usr/bin/env bash
# Packs what a GPU machine without Java needs to run mvarj's device benchmarks and command line:
#   a jlink'ed Java 25 runtime (only the modules the project uses, jdeps decides; stripped, tar.gz),
#   bench/target/benchmarks.jar (JMH + every mvarj module), the OpenCL ICD loader of this machine (used there
#   only when the GPU machine has none), and run.sh (tools/gpu-run.sh), which runs the benchmarks.
# Usage: tools/gpu-bundle.sh [OUT_DIR]     (default target/gpu-bundle, about 55 MB)
# Then, on the GPU machine:   OUT_DIR/run.sh [RESULTS_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. tools/find-jdk.sh
JAVA_HOME=$(find_jdk 25)
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
OUT=${1:-target/gpu-bundle}

echo "gpu-bundle: building bench/target/benchmarks.jar" >&2
./mvnw -B -q -ntp -DskipTests package -pl bench -am >&2

rm -rf "$OUT"
mkdir -p "$OUT/lib"
MODULES=$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 25 \
  --add-modules jdk.incubator.vector bench/target/benchmarks.jar 2>/dev/null | tail -1)
MODULES="$MODULES,jdk.incubator.vector"
echo "gpu-bundle: jlink $MODULES" >&2
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
  --compress zip-9 --output "$OUT/runtime" 2> >(grep -v 'Using incubator modules' >&2)
if command -v strip >/dev/null 2>&1; then   # libjvm.so ships with its symbol table: 29 MB -> 25 MB
  find "$OUT/runtime" -name '*.so' -exec strip --strip-unneeded {} +
fi
"$OUT/runtime/bin/java" -version 2>&1 | head -1 >&2
tar -C "$OUT" -czf "$OUT/runtime.tar.gz" runtime
rm -rf "$OUT/runtime"

cp bench/target/benchmarks.jar "$OUT/"
LOADER=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p) | awk '/libOpenCL\.so\.1 /{print $NF; exit}')
if [ -n "$LOADER" ]; then
  cp -L "$LOADER" "$OUT/lib/libOpenCL.so.1"
else
  echo "gpu-bundle: no OpenCL ICD loader here (apt-get install ocl-icd-libopencl1); the GPU machine must have one" >&2
fi
cp tools/gpu-run.sh "$OUT/run.sh"
chmod +x "$OUT/run.sh"
du -sh "$OUT" >&2
echo "$OUT"
