#!/usr/bin/env bash
# Regenerates the committed Swift code for Sources/PluginServer/Proto/sd.proto.
# Needs protoc (Debian: protobuf-compiler) and the two plugins built in release mode once:
#   swift build -c release --scratch-path /work/.build-release --product protoc-gen-swift
#   swift build -c release --scratch-path /work/.build-release --product protoc-gen-grpc-swift-2
# The generated files are public so Tools/loadgen and the tests share them with the server.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-/work/.build-release}"
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
OUT=Sources/PluginServer/Proto
protoc --proto_path="$OUT" \
  --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$BIN/protoc-gen-grpc-swift-2" \
  --swift_out="$OUT" --swift_opt=Visibility=Public \
  --grpc-swift-2_out="$OUT" --grpc-swift-2_opt=Visibility=Public,Server=true,Client=true \
  sd.proto
echo "generated $OUT/sd.pb.swift and $OUT/sd.grpc.swift"
