#!/usr/bin/env bash
# Builds the booth's WebAssembly module into target/booth/evote_web.wasm (docs/booth.md).
#
# rustup cannot add targets on every machine: Debian's rustc-web ships the std source that
# `-Z build-std` compiles for wasm32, and lld-22 links. As root, missing packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/wasm-ld-22 ] || [ ! -d /usr/lib/rustlib/src/rust/library ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src lld-22 >/dev/null
    else
        echo "the wasm build needs Debian's rustc-web, cargo-web, rust-web-src and lld-22" >&2
        exit 1
    fi
fi
# One codegen unit and fat LTO: a smaller and faster module (the native profile is untouched).
PATH=/usr/bin:/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 CARGO_TARGET_DIR=target/wasm \
    CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    /usr/bin/cargo build --release -p evote-web --target wasm32-unknown-unknown \
    -Z build-std=std,panic_abort "$@"
mkdir -p target/booth
cp target/wasm/wasm32-unknown-unknown/release/evote_web.wasm target/booth/evote_web.wasm
echo "target/booth/evote_web.wasm: $(wc -c < target/booth/evote_web.wasm) bytes, $(gzip -9 -c target/booth/evote_web.wasm | wc -c) gzipped"
