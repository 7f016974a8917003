#!/usr/bin/env bash
# The whole test suite: install what is missing, build everything with warnings as errors,
# then run every test target. SwiftPM runs with a fixed environment (scripts/swiftpm.sh), so
# a second run with no source change compiles nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# shellcheck source=scripts/swiftpm.sh
source scripts/swiftpm.sh
swiftpm build --build-tests -Xswiftc -warnings-as-errors
swiftpm test --skip-build
