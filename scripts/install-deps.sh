#!/usr/bin/env bash
# Installs the system packages the build (and, with `test`, the test suite) needs, only when
# they are missing. Usage: install-deps.sh [build|test] (default: build).
set -euo pipefail
mode="${1:-build}"
case "$mode" in
build | test) ;;
*)
    echo "install-deps.sh: unknown mode '$mode'; use build (what the build needs) or test (also what the tests need)" >&2
    exit 2
    ;;
esac
missing=()
pkg-config --exists libzstd 2>/dev/null || missing+=(libzstd-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if [ "$mode" = test ]; then
    # systemd-analyze: the suite verifies deploy/tunnel-registry.service with it.
    command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
    # The SharedLog tests start a throwaway PostgreSQL from Debian's binaries.
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    echo "installing: ${missing[*]}" >&2
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi
