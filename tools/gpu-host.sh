# Host checks of the device check (tools/gpu-run.sh), sourced by it and by its tests (GpuScriptsTest).
# Nothing here pipes a command into `grep -q`: under `set -o pipefail` grep's early exit kills the writer with
# SIGPIPE and the pipeline fails although the pattern was found. Output is captured first, then matched.

# The dynamic linker's cache (ldconfig -p), or nothing.
linker_cache() {
  ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true
}

# has_lib REGEX: whether a library matching the (extended) regular expression is in the linker's cache.
has_lib() {
  local cache
  cache=$(linker_cache)
  [[ $cache =~ $1 ]]
}

# The path of the first cached library matching REGEX (the cache's "... => /path" lines), or nothing.
lib_path() {
  local line
  while IFS= read -r line; do
    if [[ $line =~ $1 ]]; then
      echo "${line##*=> }"
      return 0
    fi
  done <<< "$(linker_cache)"
  return 1
}

# The C library's version, e.g. 2.36 (empty when it cannot be told).
glibc_version() {
  local v
  v=$(getconf GNU_LIBC_VERSION 2>/dev/null || true)
  v=${v#glibc }
  if [ -z "$v" ]; then
    v=$(ldd --version 2>/dev/null | head -1 || true)
    v=${v##* }
  fi
  echo "$v"
}

# version_ge A B: A >= B for dotted versions.
version_ge() {
  [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]
}

# Prints what the host has: kernel, C library, GPUs and driver (nvidia-smi, whose failure is reported, not
# fatal), the OpenCL ICD registrations and the loaders the linker knows. Always succeeds.
host_facts() {
  echo "host: $(uname -srm), $(nproc 2>/dev/null || echo '?') cores, glibc $(glibc_version)"
  if command -v nvidia-smi >/dev/null 2>&1; then
    local out rc=0
    out=$(nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then
      echo "gpu: $out"
    else
      echo "gpu: nvidia-smi exited $rc: $(echo "$out" | head -3 | tr '\n' ' ')"
    fi
  else
    echo "gpu: no nvidia-smi on PATH"
  fi
  local icd found=0
  for icd in "${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}"/*.icd; do
    if [ -e "$icd" ]; then
      echo "icd: $icd -> $(head -1 "$icd")"
      found=1
    fi
  done
  [ "$found" = 1 ] || echo "icd: no registration in ${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}"
  echo "loader: $(lib_path 'libOpenCL\.so\.1 ' || echo 'none in the linker cache')"
  echo "nvidia opencl: $(lib_path 'libnvidia-opencl\.so\.1' || echo 'none in the linker cache')"
  return 0
}
