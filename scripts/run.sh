#!/usr/bin/env bash
# Starts the registry on its embedded default: the local log in ./data, HTTP on
# 127.0.0.1:8080/sd, gRPC on 127.0.0.1:8000. Extra arguments are passed to the server.
# The first run builds in release mode (about 30 minutes on 2 busy cores); later runs with no
# source change start in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# shellcheck source=scripts/swiftpm.sh
source scripts/swiftpm.sh
release_build tunnel-registry
exec "$RELEASE_BIN/tunnel-registry" "$@"
