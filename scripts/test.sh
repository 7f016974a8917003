#!/usr/bin/env bash
# The whole test suite: install what is missing, build everything with warnings as errors,
# then run every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests -Xswiftc -warnings-as-errors
swift test --skip-build
