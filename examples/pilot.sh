#!/usr/bin/env bash
# A whole election with every party as its own process, on one machine, through files:
# the election authority creates the election and the voters' credentials; five guardians run a
# 3-of-5 key ceremony, each from its own sealed state file, through a shared exchange folder
# (guardian 3 is killed in the middle of a round and resumes from its state file); the ballot box
# creates its board; 50 voters encrypt their ballots (one challenges its device first, one
# votes again), the box accepts them with receipts and refuses a replayed ballot; the box closes
# the board; four guardians decrypt (guardian 2 is absent); the record is assembled and verified.
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
    done
done
g 1 status --exchange "$X"
for i in 1 2 3 4 5; do g $i finish --exchange "$X" --election "$E"; done

echo "== ballot box"
"$EVOTE" board create --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key"

echo "== voters"
choice() { # a valid choice for the demo manifest, varied by voter
    local k=$1
    echo "[[$((k % 2)),$((1 - k % 2))],[$([ $((k % 5)) = 0 ] && echo 1 || echo 0),0,$([ $((k % 5)) = 0 ] && echo 0 || echo 1),0,0],[1,0,0,0,0,0,0,$((k % 2))]]"
}
# Voter 1 audits its device first: a challenged ballot, never counted.
"$EVOTE" vote --election "$E" --credential "$W/credentials/voter-000001.credential" \
    --choices "$(choice 1)" --challenge --out "$W/ballots/challenge-1.ballot"
for k in $(seq 1 50); do
    c=$(printf "%06d" "$k")
    "$EVOTE" vote --election "$E" --credential "$W/credentials/voter-$c.credential" \
        --choices "$(choice "$k")" --out "$W/ballots/voter-$c.ballot" > /dev/null
done
# Voter 2 votes again: the later ballot counts.
"$EVOTE" vote --election "$E" --credential "$W/credentials/voter-000002.credential" \
    --choices "$(choice 3)" --out "$W/ballots/voter-000002-again.ballot"
"$EVOTE" board submit --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key" \
    --challenge "$W/ballots/challenge-1.ballot"
"$EVOTE" board submit --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key" \
    "$W"/ballots/voter-0000??.ballot > "$W/submitted.txt"
"$EVOTE" board submit --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key" \
    "$W/ballots/voter-000002-again.ballot"
tail -n 2 "$W/submitted.txt"
# A replayed ballot is refused (exit 1).
if "$EVOTE" board submit --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key" \
    "$W/ballots/voter-000007.ballot"; then
    echo "a replayed ballot was accepted" >&2; exit 1
fi
"$EVOTE" board close --election "$E" --board "$W/board.bin" --key "$W/ballot-box.key"

echo "== decryption (guardian 2 absent)"
for i in 1 3 4 5; do
    g $i decrypt --election "$E" --board "$W/board.bin" --out "$W/shares/guardian-$i.share"
done

echo "== record and verification"
"$EVOTE" record --election "$E" --board "$W/board.bin" --out "$W/record" "$W"/shares/*.share
"$EVOTE" verify "$W/record"
echo "pilot election complete in $W"
