#!/usr/bin/env bash
# A whole election with every party as its own process, on one machine, through files:
# the election authority creates the election and the voters' credentials; five guardians run a
# 3-of-5 key ceremony, each from its own sealed state file, through a shared exchange folder
# (guardian 3 is killed in the middle of a round and resumes from its state file); the ballot box
# creates its board and serves it over HTTP on 127.0.0.1; 50 voters encrypt their ballots and
# post them, a few at a time (one challenges its device first, one votes again), each keeping the
# receipt it verified; a replayed ballot and a second writer are refused; the administrator
# closes the board; four guardians decrypt (guardian 2 is absent); the record is assembled and
# verified.
#
# Usage: examples/pilot.sh [WORK_DIR]   (EVOTE=path/to/evote to use another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
EVOTE=${EVOTE:-target/release/evote}
[ -x "$EVOTE" ] || cargo build --release --quiet
W=${1:-$(mktemp -d)}
rm -rf "$W" && mkdir -p "$W/ballots" "$W/shares"
E="$W/election" X="$W/exchange"
# Each guardian's passphrase, in its own environment variable; light Argon2id (8 MiB) keeps
# the script quick; the default is 64 MiB.
for i in 1 2 3 4 5; do export "PASS_$i=passphrase of guardian $i"; done
g() { local i=$1; shift; "$EVOTE" guardian "$@" --state "$W/guardian-$i.state" --passphrase-env "PASS_$i" --kdf-memory-mib 8; }

echo "== election authority"
"$EVOTE" election new --voters 50 --out "$E" --credentials "$W/credentials"

echo "== key ceremony (3 of 5), each guardian its own process"
for i in 1 2 3 4 5; do
    g $i init --election "$E" --exchange "$X" --threshold 3 --guardians 5 --index $i
done
for round in 2 3 4; do
    for i in 1 2 3 4 5; do
        if [ "$round" = 3 ] && [ "$i" = 3 ]; then
            # Guardian 3 is killed mid-step, then started again: it resumes from its state.
            g 3 step --exchange "$X" & pid=$!; sleep 0.05; kill -9 $pid 2>/dev/null || true; wait $pid 2>/dev/null || true
        fi
        g $i step --exchange "$X"
        if [ "$round" = 3 ] && [ "$i" = 3 ]; then
            # As if guardian 3 crashed after saving its state and before its message reached
            # the exchange: the message is lost; its next step publishes the very same bytes.
            sent=$(sha256sum < "$X/round3/guardian-3.bin")
            rm "$X/round3/guardian-3.bin"
            g 3 step --exchange "$X"
            [ "$(sha256sum < "$X/round3/guardian-3.bin")" = "$sent" ] || { echo "guardian 3 sent another message" >&2; exit 1; }
            echo "guardian 3 resumed from its state file and republished the same round-3 message"
        fi
    done
done
g 1 status --exchange "$X"
for i in 1 2 3 4 5; do g $i finish --exchange "$X" --election "$E" | tee "$W/finish-$i.log"; done
# The election hash, as the election authority publishes it (every guardian printed the same).
HE=$(sed -n 's/.*election hash \([0-9a-f]*\).*/\1/p' "$W/finish-1.log")
for i in 2 3 4 5; do grep -q "election hash $HE" "$W/finish-$i.log" || { echo "guardian $i found another election" >&2; exit 1; }; done

echo "== ballot box (HTTP on 127.0.0.1)"
"$EVOTE" board create --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key"
export EVOTE_ADMIN_TOKEN="pilot admin token $$-$RANDOM$RANDOM"
"$EVOTE" board serve --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key" \
    --listen 127.0.0.1:0 > "$W/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$W/server.log" 2>/dev/null && break; sleep 0.1; done
ADDR=$(sed -n 's|listening on http://||p' "$W/server.log")
echo "ballot box at $ADDR"

echo "== voters, each posting over HTTP"
choice() { # a valid choice for the demo manifest, varied by voter
    local k=$1
    echo "[[$((k % 2)),$((1 - k % 2))],[$([ $((k % 5)) = 0 ] && echo 1 || echo 0),0,$([ $((k % 5)) = 0 ] && echo 0 || echo 1),0,0],[1,0,0,0,0,0,0,$((k % 2))]]"
}
# A voter's device knows only the election hash and the ballot box's address: its first vote
# downloads the voter context (context.bin) from the box and keeps it only if it hashes to H_E.
D="$W/device"
# Voter 1 audits its device first: a challenged ballot, opened on the board, never counted.
"$EVOTE" vote --election "$D" --election-hash "$HE" --credential "$W/credentials/voter-000001.credential" \
    --choices "$(choice 1)" --challenge --out "$W/ballots/challenge-1.ballot" --post "$ADDR"
echo "the device holds $(wc -c < "$D/context.bin") bytes of election data (context.bin)"
for k in $(seq 1 50); do
    c=$(printf "%06d" "$k")
    "$EVOTE" vote --election "$D" --election-hash "$HE" --credential "$W/credentials/voter-$c.credential" \
        --choices "$(choice "$k")" --out "$W/ballots/voter-$c.ballot" --post "$ADDR" > "$W/ballots/voter-$c.log" &
    # A few voters at once.
    if [ $((k % 8)) = 0 ]; then wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true; fi
done
wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true
grep -h "accepted as entry" "$W"/ballots/voter-*.log | wc -l | xargs echo "ballots accepted with a verified receipt:"
# Voter 2 votes again: the later ballot counts.
"$EVOTE" vote --election "$E" --credential "$W/credentials/voter-000002.credential" \
    --choices "$(choice 3)" --out "$W/ballots/voter-000002-again.ballot" --post "$ADDR"
# While the server runs, no second writer gets the board.
if "$EVOTE" board submit --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key" \
    "$W/ballots/voter-000007.ballot" 2>/dev/null; then
    echo "a second writer was let in" >&2; exit 1
fi
# A replayed ballot (voter 7's, posted again) is refused over HTTP (bash's /dev/tcp: no client needed).
post_raw() {
    local host=${ADDR%:*} port=${ADDR##*:} file=$1
    exec 3<>"/dev/tcp/$host/$port"
    printf 'POST /ballots HTTP/1.1\r\nHost: %s\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
        "$ADDR" "$(wc -c < "$file")" >&3
    cat "$file" >&3
    cat <&3
    exec 3<&-
}
answer=$(post_raw "$W/ballots/voter-000007.ballot")
echo "$answer" | grep -q "^HTTP/1.1 409" || { echo "a replayed ballot was not refused: $answer" >&2; exit 1; }
echo "replayed ballot refused: $(echo "$answer" | tail -n 1)"
"$EVOTE" board close --election "$E" --server "$ADDR"
kill $server; wait $server 2>/dev/null || true
trap - EXIT

echo "== decryption (guardian 2 absent)"
"$EVOTE" tally --election "$E" --board "$W/board.bin" --out "$W/tally.bin"
for i in 1 3 4 5; do
    # Each guardian recomputes the tally itself and decrypts only if the published one is it.
    g $i decrypt --election "$E" --board "$W/board.bin" --tally "$W/tally.bin" --out "$W/shares/guardian-$i.share"
done

echo "== record and verification"
"$EVOTE" record --election "$E" --board "$W/board.bin" --out "$W/record" "$W"/shares/*.share
"$EVOTE" verify "$W/record"
echo "pilot election complete in $W"
