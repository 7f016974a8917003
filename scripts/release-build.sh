# Sourced by scripts/run.sh and scripts/install.sh: the one release build both use. Every
# call passes exactly the same flags, so a build of the same products with no source change
# compiles nothing (SwiftPM recompiles a whole configuration when its flags change).
#
#   release_build PRODUCT...   builds the products; sets RELEASE_BIN to the directory holding them
#
# SWIFT_BUILD_ARGS adds flags to every call (keep it the same between calls).

release_build() {
    local product
    for product in "$@"; do
        # shellcheck disable=SC2086
        swift build -c release ${SWIFT_BUILD_ARGS:-} --product "$product" >&2
    done
    # shellcheck disable=SC2086
    RELEASE_BIN="$(swift build -c release ${SWIFT_BUILD_ARGS:-} --show-bin-path)"
}
