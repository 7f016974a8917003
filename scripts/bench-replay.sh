#!/usr/bin/env bash
# Measures tunnel-replay on a generated 1,000,000-event log (release build): events and
# sessions throughput, state --at in the middle with and without snapshots, and report.
# Prints the median of 3 runs of each.
#
# Usage: scripts/bench-replay.sh [EVENTS] [DATA_DIR]
#   EVENTS defaults to 1000000, DATA_DIR to /tmp/tunnel-replay-bench (generated once, reused).
#   SWIFT_BUILD_ARGS adds build flags (e.g. "--scratch-path /work/.build-release");
#   TUNNEL_REPLAY=path/to/release/tunnel-replay skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
DATA=${2:-/tmp/tunnel-replay-bench}
R=${TUNNEL_REPLAY:-}
if [[ -z "$R" ]]; then
    # shellcheck disable=SC2086
    swift build -c release ${SWIFT_BUILD_ARGS:-} --product tunnel-replay >&2
    # shellcheck disable=SC2086
    R="$(swift build -c release ${SWIFT_BUILD_ARGS:-} --show-bin-path)/tunnel-replay"
fi

if [[ ! -d "$DATA/log" ]]; then
    "$R" generate --scenario bench --events "$EVENTS" --out "$DATA" >&2
fi
COUNT=$("$R" stats --data-dir "$DATA" --format csv | tail -n 1 | cut -d, -f1)

# Median wall-clock seconds of 3 runs of the given command (output discarded).
median() {
    local runs=()
    for _ in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null
        end=$(date +%s.%N)
        runs+=("$(echo "$end - $start" | bc)")
    done
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}

FIRST=$("$R" stats --data-dir "$DATA" --format json | sed -E 's/.*"first":"([^"]+)".*/\1/')
LAST=$("$R" stats --data-dir "$DATA" --format json | sed -E 's/.*"last":"([^"]+)".*/\1/')
MIDDLE=$(date -u -d "@$(( ($(date -d "$FIRST" +%s) + $(date -d "$LAST" +%s)) / 2 ))" +%Y-%m-%dT%H:%M:%SZ)

echo "log: $DATA, $COUNT events, $(du -sh "$DATA/log" | cut -f1) of segments, middle $MIDDLE"
for format in json text csv; do
    t=$(median "$R" events --data-dir "$DATA" --format "$format")
    echo "events --format $format: ${t}s, $(echo "$COUNT / $t" | bc) events/s"
done
t=$(median "$R" events --data-dir "$DATA" --kind deregister)
echo "events --kind deregister (decode only, few rows): ${t}s, $(echo "$COUNT / $t" | bc) events/s"
t=$(median "$R" events --data-dir "$DATA" --format json --name tunnel-7)
echo "events --name tunnel-7: ${t}s, $(echo "$COUNT / $t" | bc) events/s"
t=$(median "$R" sessions --data-dir "$DATA" --format json)
echo "sessions: ${t}s, $(echo "$COUNT / $t" | bc) events/s"
echo "state --at $MIDDLE: $(median "$R" state --data-dir "$DATA" --at "$MIDDLE")s with snapshots," \
    "$(median "$R" state --data-dir "$DATA" --at "$MIDDLE" --no-snapshots)s without"
echo "report: $(median "$R" report --data-dir "$DATA" -o /tmp/tunnel-replay-bench.html)s" \
    "($(du -h /tmp/tunnel-replay-bench.html | cut -f1))"
