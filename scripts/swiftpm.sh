# Sourced by scripts/run.sh, scripts/install.sh and scripts/test.sh: SwiftPM called the same
# way every time, so a build with no source change compiles nothing.
#
# Why: SwiftPM plans a build again whenever the environment differs from the previous build's
# (any variable: a script's SHLVL or OLDPWD is enough), and each new plan lists a package's
# enabled traits (-D flags) in a random order. Modules whose command line changed are
# recompiled: SwiftProtobuf (two default traits, which the gRPC packages enable) and, before
# Package.swift turned its traits off, Hummingbird. So these scripts run SwiftPM with a fixed
# environment. Direct `swift build` calls from a shell plan again once, the next script
# call too; stick to the scripts (or to one shell) to avoid that. `swift build` and `swift
# test` also plan anew each time they alternate, even with the same flags.
#
#   swiftpm ARGS...             `swift ARGS...` with only PATH and HOME set
#   release_build PRODUCT...    builds the products in release mode; sets RELEASE_BIN
#
# SWIFT_BUILD_ARGS adds flags to every release build (keep it the same between calls).

swiftpm() {
    env -i PATH="$PATH" HOME="$HOME" swift "$@"
}

release_build() {
    local product
    for product in "$@"; do
        # shellcheck disable=SC2086
        swiftpm build -c release ${SWIFT_BUILD_ARGS:-} --product "$product" >&2
    done
    # shellcheck disable=SC2086
    RELEASE_BIN="$(swiftpm build -c release ${SWIFT_BUILD_ARGS:-} --show-bin-path)"
}
