#!/usr/bin/env bash
# Builds and runs examples/consumer, a project outside xgrad's tree, the three
# ways docs/using-xgrad.md describes:
#   subproject  meson, with subprojects/xgrad -> this checkout (a symlink)
#   pkg-config  meson, against xgrad installed into a temporary prefix
#   cmake       CMake find_package(xgrad CONFIG), against the same prefix
# xgrad is compiled once, by the subproject build, with the settings a user's
# parent project gets by default (the parent's own build type is meson's
# default, debug: -O0 -g); the other two ways install that build. The
# subproject way also checks the compile commands: every object of xgrad's
# libraries is built optimized (-O2, no debug info, NDEBUG, unity), while the
# parent's own main.cpp keeps the parent's -O0 -g. Everything happens in a
# temporary directory, removed at exit (set XGRAD_CONSUMER_KEEP=1 to keep it).
# Prints one line per way and exits 0 only when all three built and ran; a
# failure shows the tail of that step's log.
#
#   bash examples/consumer/check.sh      (from any directory)
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

for tool in meson ninja cmake pkg-config; do
  if ! command -v "$tool" >/dev/null; then
    echo "consumer: $tool is not installed" >&2
    exit 2
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/xgrad-consumer.XXXXXX") || {
  echo "consumer: cannot create a temporary directory" >&2
  exit 2
}
cleanup() {
  if [[ ${XGRAD_CONSUMER_KEEP:-0} == 1 ]]; then
    echo "consumer: kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# run_step NAME COMMAND...: runs COMMAND with its output in $work/NAME.log.
run_step() {
  local name=$1
  shift
  if ! "$@" >"$work/$name.log" 2>&1; then
    echo "consumer: step '$name' failed ($*); last lines of $name.log:" >&2
    tail -n 30 "$work/$name.log" | sed 's/^/    /' >&2
    return 1
  fi
}

# A copy of the consumer's sources (the build files must not see this tree).
consumer_copy() {
  mkdir -p "$1" && cp "$here/main.cpp" "$here/meson.build" "$here/CMakeLists.txt" "$1/"
}

# The flags of each compile command in a subproject build: xgrad's library
# objects (under subprojects/xgrad/) optimized whatever the parent's build
# type, the parent's main.cpp with the parent's -O0 -g. Also fails when no
# library object is found (a check that cannot fail is no check).
check_subproject_flags() {
  python3 - "$1" <<'PY'
import json, shlex, sys

def last(args, prefix):
    found = [a for a in args if a.startswith(prefix)]
    return found[-1] if found else None

errors, library_objects = [], 0
for entry in json.load(open(sys.argv[1])):
    args = shlex.split(entry["command"])
    source = entry["file"]
    if "subprojects/xgrad/" in entry["output"]:
        library_objects += 1
        debug = last(args, "-g")
        if last(args, "-O") != "-O2" or (debug is not None and debug != "-g0") \
                or "-DNDEBUG" not in args or "-unity" not in source:
            errors.append(f"{source}: {last(args, '-O')}, debug {debug}, "
                          f"NDEBUG {'-DNDEBUG' in args}, unity {'-unity' in source}")
    elif source.endswith("main.cpp") and (last(args, "-O") != "-O0" or "-g" not in args):
        errors.append(f"{source} (the parent's): expected the parent's -O0 -g, got "
                      f"{last(args, '-O')}")
if library_objects == 0:
    errors.append("no compile command of xgrad's libraries was found")
if errors:
    print("consumer: xgrad as a subproject is not built optimized:", *errors, sep="\n  ",
          file=sys.stderr)
    sys.exit(1)
print(f"consumer: {library_objects} library compile commands: -O2, no -g, NDEBUG, unity")
PY
}

way_subproject() {
  local src=$work/sub-src build=$work/sub-build
  consumer_copy "$src" && mkdir -p "$src/subprojects" && ln -s "$repo" "$src/subprojects/xgrad" &&
    run_step sub-setup meson setup "$build" "$src" --force-fallback-for=xgrad \
      --prefix="$work/prefix" &&
    check_subproject_flags "$build/compile_commands.json" &&
    run_step sub-build ninja -C "$build" &&
    run_step sub-run "$build/consumer" || return 1
  # The parent builds only the library: none of xgrad's tests is registered.
  local tests
  tests=$(meson introspect "$build" --tests)
  if [[ $tests != "[]" ]]; then
    echo "consumer: the subproject build registered tests in the parent project: $tests" >&2
    return 1
  fi
}

# Installs xgrad into $work/prefix. The subproject build already compiled it
# with the options a standalone library build would use (no tests, examples
# or benchmarks), so installing that build saves a second compilation; it
# installs exactly xgrad's files (the consumer installs nothing). Without a
# subproject build, xgrad is built on its own.
install_prefix() {
  if [[ $1 == 0 ]]; then
    run_step lib-install meson install -C "$work/sub-build" --no-rebuild
  else
    run_step lib-setup meson setup "$work/lib-build" "$repo" --prefix="$work/prefix" \
      -Dtests=disabled -Dexamples=disabled -Dbench=false &&
      run_step lib-build ninja -C "$work/lib-build" &&
      run_step lib-install meson install -C "$work/lib-build" --no-rebuild
  fi
}

# The installed library directory (lib, lib64 or lib/<triplet>).
libdir() {
  local pc
  pc=$(find "$work/prefix" -name xgrad.pc -print -quit)
  [[ -n $pc ]] && dirname "$(dirname "$pc")"
}

way_pkg_config() {
  local src=$work/pc-src build=$work/pc-build lib
  lib=$(libdir) || {
    echo "consumer: no xgrad.pc was installed under $work/prefix" >&2
    return 1
  }
  consumer_copy "$src" &&
    run_step pc-setup env PKG_CONFIG_PATH="$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
      meson setup "$build" "$src" --wrap-mode=nofallback &&
    run_step pc-build ninja -C "$build" &&
    run_step pc-run "$build/consumer" &&  # no LD_LIBRARY_PATH: meson records an rpath
    # The plain compiler command of docs/using-xgrad.md.
    run_step pc-cxx sh -c "c++ -std=c++17 -O2 '$here/main.cpp' \$(PKG_CONFIG_PATH='$lib/pkgconfig' \
      pkg-config --cflags --libs xgrad) -Wl,-rpath,'$lib' -o '$work/consumer-cxx'" &&
    run_step pc-cxx-run "$work/consumer-cxx"
}

way_cmake() {
  local build=$work/cmake-build
  run_step cmake-setup cmake -S "$here" -B "$build" -DCMAKE_PREFIX_PATH="$work/prefix" &&
    run_step cmake-build cmake --build "$build" &&
    run_step cmake-run "$build/consumer"  # CMake's build rpath finds the libraries
}

failed=()
report() {  # report NAME STATUS
  if [[ $2 == 0 ]]; then
    echo "consumer: $1 ok"
  else
    echo "consumer: $1 FAILED"
    failed+=("$1")
  fi
}

way_subproject
sub_status=$?
report subproject $sub_status
if install_prefix $sub_status; then
  way_pkg_config
  report pkg-config $?
  way_cmake
  report cmake $?
else
  report "install (for pkg-config and cmake)" 1
fi

if ((${#failed[@]} > 0)); then
  echo "consumer: failed: ${failed[*]}" >&2
  exit 1
fi
echo "consumer: all three ways built and ran"
