// The booth module's loader: one JSON request in, one JSON answer out (docs/booth.md).
// No generated bindings: the module exports `evote_request`, `evote_call`, `evote_answer` and
// its memory, and needs no imports. Works in a browser and in Node.

/** A step the module refused; `message` names what is wrong. */
export class BoothError extends Error {}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new BoothError("not hex");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

/** 32 bytes from the platform's CSPRNG, hex: the `entropy` of a request. */
export function entropy() {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return toHex(bytes);
}

export class Booth {
  constructor(instance) {
    this.exports = instance.exports;
  }

  /** Instantiates the module from a fetch Response, an ArrayBuffer or a typed array. */
  static async load(source) {
    let instance;
    if (typeof Response !== "undefined" && source instanceof Response) {
      if (WebAssembly.instantiateStreaming && source.headers.get("content-type") === "application/wasm") {
        ({ instance } = await WebAssembly.instantiateStreaming(source, {}));
      } else {
        ({ instance } = await WebAssembly.instantiate(await source.arrayBuffer(), {}));
      }
    } else {
      ({ instance } = await WebAssembly.instantiate(source, {}));
    }
    return new Booth(instance);
  }

  /** Runs one request (an object with `op`); returns `ok` or throws a BoothError. */
  call(request) {
    const bytes = new TextEncoder().encode(JSON.stringify(request));
    const e = this.exports;
    const at = e.evote_request(bytes.length);
    if (at === 0) throw new BoothError("the request is too large");
    new Uint8Array(e.memory.buffer, at, bytes.length).set(bytes);
    bytes.fill(0);
    const len = e.evote_call();
    const answer = JSON.parse(new TextDecoder().decode(new Uint8Array(e.memory.buffer, e.evote_answer(), len)));
    if ("error" in answer) throw new BoothError(answer.error);
    return answer.ok;
  }

  loadElection(contextBytes, electionHash) {
    return this.call({ op: "load", context: toHex(contextBytes), election_hash: electionHash });
  }
  check(selections) {
    return this.call({ op: "check", selections });
  }
  encrypt(credential, selections) {
    return this.call({ op: "encrypt", credential, selections, entropy: entropy() });
  }
  cast() {
    return this.call({ op: "cast", entropy: entropy() });
  }
  challenge() {
    return this.call({ op: "challenge", entropy: entropy() });
  }
  openChallenged(ballot) {
    return this.call({ op: "open_challenged", ballot });
  }
  checkReceipt(receipt, ballotBox, tracker) {
    return this.call({ op: "check_receipt", receipt, ballot_box: ballotBox, tracker });
  }
}
