#!/usr/bin/env bash
# The booth in a real browser, end to end: an election with a 2-of-3 key ceremony; the ballot
# box serves the booth on 127.0.0.1; headless Chromium (driven by Playwright) votes for four
# voters — a challenge, a refused invalid choice, a revote, Ukrainian on a phone-sized screen,
# a credential from its file; then the board is closed, tallied and decrypted, the record is
# verified, and the counts must be exactly what the browser voters cast.
#
# Usage: tests/browser/run.sh [OUT_DIR]   (screenshots in OUT_DIR/screens)
# Installs what it needs when missing and run as root: Chromium and its driver (Debian), the
# wasm toolchain (web/build.sh), playwright-core (npm, pinned by package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/../.."
EVOTE=${EVOTE:-target/release/evote}
OUT=${1:-target/browser-test}
[ -x "$EVOTE" ] || cargo build --release --quiet
[ -f target/booth/evote_web.wasm ] || bash web/build.sh
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
    else
        echo "the browser test needs Debian's chromium (apt-get install chromium)" >&2
        exit 1
    fi
fi
(cd tests/browser && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund --silent; })

rm -rf "$OUT" && mkdir -p "$OUT/shares"
E="$OUT/election" X="$OUT/exchange"
for i in 1 2 3; do export "PASS_$i=passphrase of guardian $i"; done
g() { local i=$1; shift; "$EVOTE" guardian "$@" --state "$OUT/guardian-$i.state" --passphrase-env "PASS_$i" --kdf-memory-mib 8; }
"$EVOTE" election new --manifest tests/browser/manifest.json --voters 4 --out "$E" --credentials "$OUT/credentials" >/dev/null
for i in 1 2 3; do g $i init --election "$E" --exchange "$X" --threshold 2 --guardians 3 --index $i >/dev/null; done
for _ in 2 3 4; do for i in 1 2 3; do g $i step --exchange "$X" >/dev/null; done; done
for i in 1 2 3; do g $i finish --exchange "$X" --election "$E" >/dev/null; done

"$EVOTE" board create --election "$E" --board "$OUT/board.bin" --key "$OUT/ballot-box.key" >/dev/null
export EVOTE_ADMIN_TOKEN="browser test admin token $$-$RANDOM$RANDOM"
"$EVOTE" board serve --election "$E" --board "$OUT/board.bin" --key "$OUT/ballot-box.key" \
    --listen 127.0.0.1:0 --booth-module target/booth/evote_web.wasm > "$OUT/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$OUT/server.log" 2>/dev/null && break; sleep 0.1; done
ADDR=$(sed -n 's|listening on http://||p' "$OUT/server.log")
echo "ballot box and booth at http://$ADDR/"

node tests/browser/booth.mjs "http://$ADDR" "$OUT/credentials" "$OUT/screens"

"$EVOTE" board close --election "$E" --server "$ADDR" >/dev/null
kill $server; wait $server 2>/dev/null || true
trap - EXIT
"$EVOTE" tally --election "$E" --board "$OUT/board.bin" --out "$OUT/tally.bin" >/dev/null
for i in 1 3; do
    g $i decrypt --election "$E" --board "$OUT/board.bin" --tally "$OUT/tally.bin" --out "$OUT/shares/guardian-$i.share" >/dev/null
done
"$EVOTE" record --election "$E" --board "$OUT/board.bin" --out "$OUT/record" "$OUT"/shares/*.share >/dev/null
"$EVOTE" verify "$OUT/record"

# The decrypted counts are exactly the sum of what the browser voters cast last.
node - "$OUT/screens/voters.json" "$OUT/record/results.json" <<'JS'
const fs = require("fs");
const voters = Object.values(JSON.parse(fs.readFileSync(process.argv[2], "utf8")));
const results = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const expected = voters[0].selections.map((c, ci) => c.map((_, oi) => voters.reduce((s, v) => s + v.selections[ci][oi], 0)));
const counted = results.contests.map((c) => c.options.map((o) => o.count));
if (JSON.stringify(expected) !== JSON.stringify(counted) || results.counted_ballots !== voters.length) {
  console.error(`the tally does not match the browser voters: expected ${JSON.stringify(expected)}, counted ${JSON.stringify(counted)}`);
  process.exit(1);
}
console.log(`the verified tally counts exactly what the ${voters.length} browser voters cast: ${JSON.stringify(counted)}`);
JS
