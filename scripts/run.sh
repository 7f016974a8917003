#!/usr/bin/env bash
# Starts the registry on its embedded default: the local log in ./data, HTTP on
# 127.0.0.1:8080/sd, gRPC on 127.0.0.1:8000. Extra arguments are passed to the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product tunnel-registry
exec "$(swift build -c release --show-bin-path)/tunnel-registry" "$@"
