#!/usr/bin/env bash
# Regenerates Fixtures/replay: the logs the tunnel-replay tests compare against known answers.
#
#   healthy/          the scripted history of Tools/tunnel-replay/Generate/FixtureHistory.swift,
#                     written by the real Registry (scripted clock, sweeper every second, one
#                     snapshot after 250 s, a final one at close), 4 KiB segments (the smallest the log allows)
#   torn-tail/        healthy with the newest segment cut 5 bytes short (a crash mid-commit)
#   corrupt-sealed/   healthy with one byte flipped in the middle of the oldest (sealed) segment
#   corrupt-snapshot/ healthy with one byte flipped in the body of the first snapshot
#
# Usage: scripts/make-fixtures.sh            (builds tunnel-replay with `swift build`)
#        TUNNEL_REPLAY=path/to/tunnel-replay scripts/make-fixtures.sh
# SWIFT_BUILD_ARGS adds flags to the build (e.g. "--scratch-path /work/main/.build").
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=Fixtures/replay

if [[ -z "${TUNNEL_REPLAY:-}" ]]; then
    # shellcheck disable=SC2086
    swift build ${SWIFT_BUILD_ARGS:-} --product tunnel-replay
    # shellcheck disable=SC2086
    TUNNEL_REPLAY="$(swift build ${SWIFT_BUILD_ARGS:-} --show-bin-path)/tunnel-replay"
fi

# Flips (XORs with 0xff) the byte at OFFSET of FILE.
flip_byte() {
    local file=$1 offset=$2 value
    value=$(od -An -tu1 -j "$offset" -N1 "$file" | tr -d ' ')
    printf "$(printf '\\%03o' $((value ^ 0xff)))" | dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

rm -rf "$OUT/healthy" "$OUT/torn-tail" "$OUT/corrupt-sealed" "$OUT/corrupt-snapshot"
"$TUNNEL_REPLAY" generate --scenario fixture --out "$OUT/healthy"

cp -r "$OUT/healthy" "$OUT/torn-tail"
newest=$(find "$OUT/torn-tail/log" -name '*.seg' | sort | tail -n 1)
truncate -s -5 "$newest"

cp -r "$OUT/healthy" "$OUT/corrupt-sealed"
oldest=$(find "$OUT/corrupt-sealed/log" -name '*.seg' | sort | head -n 1)
flip_byte "$oldest" $(($(stat -c %s "$oldest") / 2))

cp -r "$OUT/healthy" "$OUT/corrupt-snapshot"
snapshot=$(find "$OUT/corrupt-snapshot/snapshots" -name '*.snap' | sort | head -n 1)
flip_byte "$snapshot" $(($(stat -c %s "$snapshot") - 3))

# The writer lock file is not part of the history.
rm -f "$OUT"/*/log/LOCK

for dir in healthy torn-tail corrupt-sealed corrupt-snapshot; do
    echo "$dir: $(find "$OUT/$dir" -type f | wc -l) files"
done
