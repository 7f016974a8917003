#!/usr/bin/env bash
# The whole test suite: install what is missing, build everything with warnings as errors,
# then run every test target.
#
# SwiftPM runs with a fixed environment (scripts/swiftpm.sh), and the tests run from the
# test bundle directly, as `swift test` runs them: `swift build` and `swift test` plan the build
# anew each time they alternate (which may recompile SwiftProtobuf), and `swift test` alone
# does not relink the executables the tests start. So a second run with no source change
# compiles nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh test
# shellcheck source=scripts/swiftpm.sh
source scripts/swiftpm.sh
swiftpm build --build-tests -Xswiftc -warnings-as-errors
BIN="$(swiftpm build --build-tests -Xswiftc -warnings-as-errors --show-bin-path)"
BUNDLE="$BIN/tunnel-registryPackageTests.xctest"
[[ -x "$BUNDLE" ]] || { echo "test bundle $BUNDLE is missing: was the package renamed?" >&2; exit 1; }
"$BUNDLE" --testing-library xctest
"$BUNDLE" --testing-library swift-testing
