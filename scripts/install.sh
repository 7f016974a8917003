#!/usr/bin/env bash
# Builds tunnel-registry and tunnel-replay in release mode (the same build scripts/run.sh
# uses, so nothing is compiled twice) and installs them into PREFIX/bin.
#
# Usage: scripts/install.sh [PREFIX]      PREFIX defaults to /usr/local
# SWIFT_BUILD_ARGS adds flags to the build (e.g. "--scratch-path /work/.build-release").
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
bash scripts/install-deps.sh
# shellcheck source=scripts/swiftpm.sh
source scripts/swiftpm.sh
release_build tunnel-registry tunnel-replay
install -d "$PREFIX/bin"
for executable in tunnel-registry tunnel-replay; do
    install -m 0755 "$RELEASE_BIN/$executable" "$PREFIX/bin/$executable"
    echo "installed $PREFIX/bin/$executable ($("$PREFIX/bin/$executable" --version))"
done
# The binaries load the Swift runtime from the toolchain; say so if this machine lacks it.
if missing=$(ldd "$PREFIX/bin/tunnel-registry" | grep 'not found'); then
    echo "warning: shared libraries not found (install the Swift runtime on this machine):" >&2
    echo "$missing" >&2
fi
