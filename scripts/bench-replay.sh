#!/usr/bin/env bash
# Measures tunnel-replay on a generated log (release build) against the figures of issue 9:
# stats, state --at (start, middle, end), sessions over one hour, and the throughput of events
# --format json, sessions over the whole log and verify. Prints the median of 3 runs of each,
# then one JSON line with every figure.
#
# Usage: scripts/bench-replay.sh [EVENTS] [DATA_DIR]
#   EVENTS defaults to 5000000, DATA_DIR to /tmp/tunnel-replay-bench-EVENTS (generated once, reused).
#   CONNECTORS (default 15000) sets the generated log's live connectors.
#   SWIFT_BUILD_ARGS adds build flags; TUNNEL_REPLAY=path/to/release/tunnel-replay skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-5000000}
DATA=${2:-/tmp/tunnel-replay-bench-$EVENTS}
R=${TUNNEL_REPLAY:-}
if [[ -z "$R" ]]; then
    # shellcheck disable=SC2086
    swift build -c release ${SWIFT_BUILD_ARGS:-} --product tunnel-replay >&2
    # shellcheck disable=SC2086
    R="$(swift build -c release ${SWIFT_BUILD_ARGS:-} --show-bin-path)/tunnel-replay"
fi

if [[ ! -d "$DATA/log" ]]; then
    "$R" generate --scenario bench --events "$EVENTS" --connectors "${CONNECTORS:-15000}" --out "$DATA" >&2
fi

# Median wall-clock seconds of 3 runs of the given command (output discarded); the median CPU
# seconds (user + system) of the same runs go to stderr and to $CPU_FILE (read by `cpu`),
# steadier on a shared machine.
CPU_FILE=/tmp/bench-replay-cpu-median.$$
trap 'rm -f "$CPU_FILE"' EXIT
cpu() { cat "$CPU_FILE"; }
median() {
    local runs=() cpus=()
    for _ in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        /usr/bin/time -f '%U %S' -o /tmp/bench-replay-cpu.$$ "$@" >/dev/null
        end=$(date +%s.%N)
        runs+=("$(echo "$end - $start" | bc)")
        cpus+=("$(awk '{print $1 + $2}' /tmp/bench-replay-cpu.$$)")
    done
    rm -f /tmp/bench-replay-cpu.$$
    printf '%s\n' "${cpus[@]}" | sort -n | sed -n 2p >"$CPU_FILE"
    echo "  (cpu $(cpu)s of: $*)" >&2
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}
rate() { echo "$COUNT / $1" | bc; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

STATS=$("$R" stats --data-dir "$DATA" --format json)
COUNT=$(echo "$STATS" | sed -E 's/.*"events":([0-9]+).*/\1/')
FIRST=$(date -d "$(echo "$STATS" | sed -E 's/.*"first":"([^"]+)".*/\1/')" +%s)
LAST=$(date -d "$(echo "$STATS" | sed -E 's/.*"last":"([^"]+)".*/\1/')" +%s)
MIDDLE=$(( (FIRST + LAST) / 2 ))
echo "log: $DATA, $COUNT events, $(du -sh "$DATA/log" | cut -f1) of segments, $(iso "$FIRST") to $(iso "$LAST")"

t_stats=$(median "$R" stats --data-dir "$DATA")
echo "stats: ${t_stats}s"
t_state=0
for at in $((FIRST + 1)) "$MIDDLE" "$LAST"; do
    t=$(median "$R" state --data-dir "$DATA" --at "$(iso "$at")")
    echo "state --at $(iso "$at"): ${t}s"
    t_state=$(echo "if ($t > $t_state) $t else $t_state" | bc)
done
t_hour=$(median "$R" sessions --data-dir "$DATA" --since "$(iso "$MIDDLE")" --until "$(iso $((MIDDLE + 3600)))")
c_hour=$(cpu)
echo "sessions --since $(iso "$MIDDLE") --until +1h: ${t_hour}s"
t_events=$(median "$R" events --data-dir "$DATA" --format json)
c_events=$(cpu)
echo "events --format json: ${t_events}s, $(rate "$t_events") events/s"
t_sessions=$(median "$R" sessions --data-dir "$DATA" --format json)
c_sessions=$(cpu)
echo "sessions (whole log): ${t_sessions}s, $(rate "$t_sessions") events/s"
t_verify=$(median "$R" verify --data-dir "$DATA")
c_verify=$(cpu)
echo "verify: ${t_verify}s, $(rate "$t_verify") events/s"
printf '{"events":%s,"stats_s":%s,"state_at_max_s":%s,"sessions_hour_s":%s,"events_json_per_s":%s,"sessions_per_s":%s,"verify_per_s":%s,' \
    "$COUNT" "$t_stats" "$t_state" "$t_hour" "$(rate "$t_events")" "$(rate "$t_sessions")" "$(rate "$t_verify")"
printf '"cpu_s":{"sessions_hour":%s,"events_json":%s,"sessions":%s,"verify":%s}}\n' \
    "$c_hour" "$c_events" "$c_sessions" "$c_verify"
