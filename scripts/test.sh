#!/usr/bin/env bash
# The whole test suite: install what is missing, build everything with warnings as errors,
# then run every test target. One `swift test` call does both, with a fixed environment
# (scripts/swiftpm.sh): a `swift build` followed by `swift test` would plan the build anew each
# time and may recompile SwiftProtobuf, so a second run with no source change compiles nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# shellcheck source=scripts/swiftpm.sh
source scripts/swiftpm.sh
swiftpm test -Xswiftc -warnings-as-errors
