#!/usr/bin/env bash
# Packs what a GPU machine without Java needs for mvarj's one-command device check (tools/gpu-run.sh,
# docs/gpu.md#the-device-check):
#   runtime.tar.gz   a jlinked Java 25 runtime: the modules jdeps finds in the jars below, stripped
#   benchmarks.jar   JMH and every mvarj module (bench/target/benchmarks.jar)
#   tests/           the gpu-backends test classes and the JUnit and AssertJ jars they need
#   lib/             this machine's OpenCL ICD loader, used there only when the host has none, and REQUIRES_GLIBC,
#                    the newest glibc symbol version it links against
#   run.sh           the check (tools/gpu-run.sh) and gpu-host.sh, its host checks
# Usage: tools/gpu-bundle.sh [--prebuilt] [OUT_DIR]   (default target/gpu-bundle; under 64 MiB, checked)
#   --prebuilt  skip the Maven build: use the jars a `./mvnw package` (or `./mvarj test`) already made
# Environment: JLINK_COMPRESS (default zip-9; CI's bundle test uses zip-1, faster to build, a little larger).
# Then, on the GPU machine:   OUT_DIR/run.sh [RESULTS_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. tools/find-jdk.sh
. tools/gpu-host.sh
JAVA_HOME=$(find_jdk 25)
export JAVA_HOME MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
PREBUILT=0
if [ "${1:-}" = --prebuilt ]; then
  PREBUILT=1
  shift
fi
OUT=${1:-target/gpu-bundle}
LIMIT=$((64 << 20))

if [ "$PREBUILT" = 0 ]; then
  echo "gpu-bundle: building bench/target/benchmarks.jar and the gpu-backends test jar" >&2
  ./mvnw -B -q -ntp -DskipTests package -pl bench -am >&2
fi
TESTJAR=$(ls gpu-backends/target/gpu-backends-*-tests.jar)
for f in bench/target/benchmarks.jar "$TESTJAR" gpu-backends/target/device-tests; do
  [ -e "$f" ] || { echo "gpu-bundle: $f is missing (build without --prebuilt)" >&2; exit 1; }
done

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/tests"
cp bench/target/benchmarks.jar "$OUT/"
cp "$TESTJAR" gpu-backends/target/device-tests/*.jar "$OUT/tests/"
MODULES=$("$JAVA_HOME/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 25 \
  --add-modules jdk.incubator.vector --class-path "$OUT/tests/*" "$OUT/benchmarks.jar" "$OUT"/tests/*.jar \
  2>/dev/null | tail -1)
MODULES="$MODULES,jdk.incubator.vector"
echo "gpu-bundle: jlink $MODULES" >&2
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
  --compress "${JLINK_COMPRESS:-zip-9}" --output "$OUT/runtime" 2> >(grep -v 'Using incubator modules' >&2)
if command -v strip >/dev/null 2>&1; then   # libjvm.so ships with its symbol table: 29 MB -> 25 MB
  find "$OUT/runtime" -name '*.so' -exec strip --strip-unneeded {} +
fi
"$OUT/runtime/bin/java" -version 2>&1 | head -1 >&2
tar -C "$OUT" -czf "$OUT/runtime.tar.gz" runtime
rm -rf "$OUT/runtime"

LOADER=$(lib_path 'libOpenCL\.so\.1 ' || true)
if [ -n "$LOADER" ]; then
  cp -L "$LOADER" "$OUT/lib/libOpenCL.so.1"
  # the newest GLIBC_x.y its symbols need: run.sh uses the bundled loader only on a host with that glibc
  versions=$(grep -ao 'GLIBC_2\.[0-9.]*' "$OUT/lib/libOpenCL.so.1" | sort -uV || true)
  echo "${versions##*GLIBC_}" > "$OUT/lib/REQUIRES_GLIBC"
else
  echo "gpu-bundle: no OpenCL ICD loader here (apt-get install ocl-icd-libopencl1); the GPU machine must have one" >&2
fi
cp tools/gpu-run.sh "$OUT/run.sh"
cp tools/gpu-host.sh "$OUT/gpu-host.sh"
chmod +x "$OUT/run.sh"
SIZE=$(du -sb "$OUT" | cut -f1)
echo "gpu-bundle: $OUT, $((SIZE >> 20)) MiB" >&2
if [ "$SIZE" -gt "$LIMIT" ]; then
  echo "gpu-bundle: the bundle is over 64 MiB" >&2
  exit 1
fi
echo "$OUT"
