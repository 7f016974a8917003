#!/usr/bin/env bash
# Durable renews/s at 64 connections over HTTP and gRPC, next to wrk's /healthz requests/s,
# all against one release tunnel-registry per run (loopback only), RUNS times; prints medians.
# Needs wrk. Usage: Tools/loadgen/bench-renews.sh [RUNS=3] [DURATION=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${RUNS:-3}"
DURATION="${DURATION:-10}"
SCRATCH="${SCRATCH:-/work/.build-release}"
swift build -c release --scratch-path "$SCRATCH" --product tunnel-registry >/dev/null
swift build -c release --scratch-path "$SCRATCH" --product loadgen >/dev/null
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
RESULTS="$(mktemp)"

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for run in $(seq 1 "$RUNS"); do
  DATA="$(mktemp -d)"
  "$BIN/tunnel-registry" --data-dir "$DATA" --http 127.0.0.1:0 --grpc 127.0.0.1:0 --log-level warning \
    >"$DATA.out" 2>"$DATA.err" &
  PID=$!
  for _ in $(seq 1 100); do grep -q "ready after replay" "$DATA.out" 2>/dev/null && \
    grep -q "http listening" "$DATA.out" && grep -q "grpc listening" "$DATA.out" && break; sleep 0.1; done
  HTTP="$(sed -n 's/.*http listening on //p' "$DATA.out")"
  GRPC="$(sed -n 's/.*grpc listening on //p' "$DATA.out")"

  healthz="$(wrk -t2 -c64 -d"${DURATION}s" "http://$HTTP/healthz" | awk '/Requests\/sec/ { print $2 }')"
  http_out="$("$BIN/loadgen" renew-storm --protocol http --http "$HTTP" --connections 64 --duration "$DURATION")"
  grpc_out="$("$BIN/loadgen" renew-storm --protocol grpc --grpc "$GRPC" --connections 64 --duration "$DURATION")"
  wrk_renew="$(wrk -t2 -c64 -d"${DURATION}s" -s Tools/loadgen/renew.lua "http://$HTTP/sd" \
    | awk '/Requests\/sec/ { print $2 }')"
  kill -TERM "$PID"; wait "$PID" || true

  http_renew="$(awk '$1 == "renew" { print $3 }' <<<"$http_out")"
  http_get_p99="$(awk '$1 == "get" { print $6 }' <<<"$http_out")"
  grpc_renew="$(awk '$1 == "renew" { print $3 }' <<<"$grpc_out")"
  grpc_get_p99="$(awk '$1 == "get" { print $6 }' <<<"$grpc_out")"
  echo "run $run: healthz(wrk)=$healthz/s renew http(loadgen)=$http_renew/s renew grpc(loadgen)=$grpc_renew/s" \
    "renew http(wrk)=$wrk_renew/s get p99 http=${http_get_p99}ms grpc=${grpc_get_p99}ms"
  echo "$healthz $http_renew $grpc_renew $wrk_renew $http_get_p99 $grpc_get_p99" >>"$RESULTS"
  rm -rf "$DATA" "$DATA.out" "$DATA.err"
done

col() { awk -v c="$1" '{ print $c }' "$RESULTS" | median; }
echo "median of $RUNS runs, ${DURATION}s each, 64 connections:"
echo "  /healthz (wrk)            $(col 1) req/s"
echo "  renew HTTP (loadgen)      $(col 2) req/s  ratio $(awk -v a="$(col 2)" -v b="$(col 1)" 'BEGIN { printf "%.2f", a / b }')"
echo "  renew gRPC (loadgen)      $(col 3) req/s  ratio $(awk -v a="$(col 3)" -v b="$(col 1)" 'BEGIN { printf "%.2f", a / b }')"
echo "  renew HTTP (wrk)          $(col 4) req/s  ratio $(awk -v a="$(col 4)" -v b="$(col 1)" 'BEGIN { printf "%.2f", a / b }')"
echo "  Get p99 during HTTP storm $(col 5) ms"
echo "  Get p99 during gRPC storm $(col 6) ms"
rm -f "$RESULTS"
