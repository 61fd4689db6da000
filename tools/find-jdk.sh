# Sourced by ./mvarj and .ci/run: find_jdk prints the home of a JDK 25 or newer.
# Order: $JAVA_HOME, then the usual install locations, then the java on the PATH.

_jdk_major() { # JDK home -> major version (or nothing)
  local home=$1 v=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  [ -n "$v" ] && echo "$v"
}

find_jdk() {
  local min=${1:-25} c v best="" bestv=0
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(_jdk_major "$JAVA_HOME") && [ "$v" -ge "$min" ] && { echo "$JAVA_HOME"; return 0; }
    echo "mvarj: JAVA_HOME=$JAVA_HOME is not a JDK $min+; looking elsewhere" >&2
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* /usr/java/* "$HOME"/.sdkman/candidates/java/* \
           "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] || continue
    v=$(_jdk_major "$c") || continue
    if [ "$v" -ge "$min" ] && [ "$v" -gt "$bestv" ]; then best=$c; bestv=$v; fi
  done
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    c=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(_jdk_major "$c") && [ "$v" -ge "$min" ] && best=$c
  fi
  if [ -z "$best" ]; then
    echo "mvarj: no JDK $min or newer found (set JAVA_HOME, or install e.g. Temurin $min under /usr/lib/jvm)" >&2
    return 1
  fi
  echo "$best"
}
