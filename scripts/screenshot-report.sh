#!/usr/bin/env bash
# Renders a tunnel-replay HTML report in headless Chromium and saves a PNG, to check the page by
# eye (layout, colours per node, expiry and flap marks) without a desktop.
#
# Usage: scripts/screenshot-report.sh [DATA_DIR] [OUT.png]
#   DATA_DIR defaults to Fixtures/replay/healthy, OUT.png to /tmp/tunnel-replay-report.png.
#   TUNNEL_REPLAY=path/to/tunnel-replay skips the build; SWIFT_BUILD_ARGS adds build flags.
# Needs Debian's chromium (`apt-get install -y chromium`); the page makes no network fetches.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${1:-Fixtures/replay/healthy}
PNG=${2:-/tmp/tunnel-replay-report.png}
HTML=${PNG%.png}.html

if [[ -z "${TUNNEL_REPLAY:-}" ]]; then
    # shellcheck disable=SC2086
    swift build ${SWIFT_BUILD_ARGS:-} --product tunnel-replay
    # shellcheck disable=SC2086
    TUNNEL_REPLAY="$(swift build ${SWIFT_BUILD_ARGS:-} --show-bin-path)/tunnel-replay"
fi
command -v chromium >/dev/null || { echo "chromium is missing: apt-get install -y chromium" >&2; exit 2; }

"$TUNNEL_REPLAY" report --data-dir "$DATA_DIR" -o "$HTML"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,900 \
    --screenshot="$PNG" "file://$(realpath "$HTML")" 2>/dev/null
echo "report: $HTML"
echo "screenshot: $PNG"
