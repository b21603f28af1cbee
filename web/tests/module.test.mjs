// The booth's WebAssembly module alone, in Node (the engine of Chromium): it must reproduce
// the native library's known answers byte for byte (web/tests/booth.rs pins the same files),
// refuse what the native booth refuses, and open a challenge to the choice.
//
//   node --test web/tests/module.test.mjs      (after web/build.sh)
// EVOTE_BOOTH_MODULE names another module file; EVOTE_BOOTH_TIMING=N times N ballots of each
// vector's election (printed, never asserted).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Booth, BoothError, fromHex } from "../booth/evote.js";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const modulePath = process.env.EVOTE_BOOTH_MODULE || here("../../target/booth/evote_web.wasm");
const wasm = readFileSync(modulePath);
const vectors = ["example.json", "one-of-ten.json"].map((name) => [
  name,
  JSON.parse(readFileSync(here(`vectors/${name}`), "utf8")),
]);

async function loaded(v) {
  const booth = await Booth.load(wasm);
  const view = booth.loadElection(fromHex(v.context), v.election_hash);
  return [booth, view];
}

for (const [name, v] of vectors) {
  test(`${name}: the module's ballot is the native library's, byte for byte`, async () => {
    const [booth, view] = await loaded(v);
    assert.equal(view.election_hash, v.election_hash);
    const { tracker } = booth.call({
      op: "encrypt",
      credential: v.credential,
      selections: v.selections,
      entropy: v.encrypt_entropy,
    });
    assert.equal(tracker, v.tracker);
    const cast = booth.call({ op: "cast", entropy: v.cast_entropy });
    assert.equal(cast.tracker, v.tracker);
    assert.equal(cast.ballot, v.ballot);
    assert.equal(cast.ballot.length / 2, view.ballot_bytes);
  });

  test(`${name}: a challenge opens to the choice; nothing is left to cast`, async () => {
    const [booth] = await loaded(v);
    const { tracker } = booth.encrypt(v.credential, v.selections);
    const opened = booth.challenge();
    assert.equal(opened.tracker, tracker);
    assert.deepEqual(opened.selections, v.selections);
    assert.deepEqual(booth.openChallenged(opened.ballot).selections, v.selections);
    assert.throws(() => booth.cast(), BoothError);
  });
}

test("another election, a broken context, bad requests and bad choices are refused", async () => {
  const [, v] = vectors[0];
  const [, w] = vectors[1];
  const booth = await Booth.load(wasm);
  assert.throws(() => booth.call({ op: "election" }), /no election is loaded/);
  assert.throws(() => booth.loadElection(fromHex(v.context), w.election_hash), BoothError);
  const broken = fromHex(v.context);
  broken[50] ^= 1;
  assert.throws(() => booth.loadElection(broken, v.election_hash), BoothError);
  booth.loadElection(fromHex(v.context), v.election_hash);
  for (const request of [{ op: "nope" }, { op: "cast" }, { op: "cast", entropy: "00" }, { op: "election", x: 1 }]) {
    assert.throws(() => booth.call(request), BoothError, JSON.stringify(request));
  }
  const tooMany = v.selections.map((c) => c.map(() => 1));
  assert.throws(() => booth.check(tooMany), BoothError);
  assert.throws(() => booth.encrypt(v.credential, tooMany), BoothError);
  assert.throws(() => booth.encrypt("00".repeat(31), v.selections), /credential/);
  assert.throws(() => booth.cast(), /encrypt one first/);
  // A request above the module's bound is refused at the boundary.
  assert.equal(booth.exports.evote_request(1 << 30), 0);
});

const runs = Number(process.env.EVOTE_BOOTH_TIMING || 0);
if (runs > 0) {
  test(`timing: ${runs} ballots per election`, async () => {
    for (const [name, v] of vectors) {
      const [booth] = await loaded(v);
      const times = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        booth.encrypt(v.credential, v.selections);
        booth.cast();
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      console.log(`node ${process.version} ${name}: encrypt + prove + sign median ${times[runs >> 1].toFixed(2)} ms (min ${times[0].toFixed(2)}, ${runs} runs)`);
    }
  });
}
