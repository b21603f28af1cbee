// Drives the booth in a real headless Chromium through Playwright (run.sh starts the ballot box
// and checks the tally afterwards). Voters challenge, cast, vote again, use both languages and a
// credential file; every step is screenshotted into OUT. Writes OUT/voters.json: what each
// voter finally cast (the tally must count exactly that).
//
//   node tests/browser/booth.mjs URL CREDENTIALS_DIR OUT
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";

const [url, credentials, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
console.log(`browser: Chromium ${browser.version()}`);

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = `${out}/${String(shot).padStart(2, "0")}-${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
}

const credentialOf = (k) => readFileSync(`${credentials}/voter-${String(k).padStart(6, "0")}.credential`, "utf8").trim();
const credentialFile = (k) => `${credentials}/voter-${String(k).padStart(6, "0")}.credential`;

async function openBooth(context, query = "") {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("response", (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
  await page.goto(`${url}/${query}`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  page.errors = errors;
  return page;
}

// Sets the form to `selections` (checkboxes for option_limit 1, numbers otherwise).
async function choose(page, selections) {
  for (const [ci, contest] of selections.entries()) {
    for (const [oi, v] of contest.entries()) {
      const input = page.locator(`#c${ci}o${oi}`);
      if ((await input.getAttribute("type")) === "checkbox") await input.setChecked(v === 1);
      else await input.fill(String(v));
    }
  }
}

async function encrypt(page, credential) {
  if (credential.file) await page.setInputFiles("#credential-file", credential.file);
  else await page.fill("#credential", credential.text);
  // The file is read asynchronously.
  await page.waitForFunction(() => document.getElementById("credential").value.length === 64);
  await page.click("#encrypt");
  await page.waitForSelector("#tracker-step:not([hidden])", { timeout: 60000 });
  const tracker = (await page.textContent("#tracker")).replace(/\s+/g, "");
  const ms = Number(await page.getAttribute("#encrypted-in", "data-ms"));
  assert.match(tracker, /^[0-9a-f]{128}$/);
  return { tracker, ms };
}

async function cast(page) {
  await page.click("#cast");
  await page.waitForSelector("#cast-step:not([hidden])", { timeout: 30000 });
  const entry = Number(await page.getAttribute("#cast-done", "data-entry"));
  const tracker = await page.getAttribute("#cast-tracker", "data-tracker");
  // The receipt the voter saves: the module checked it before this view was shown.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save-receipt")]);
  const saved = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(saved.tracker, tracker);
  assert.equal(saved.entry, entry);
  return { entry, tracker, receipt: saved };
}

async function challenge(page, selections) {
  await page.click("#challenge");
  await page.waitForSelector("#challenged-step:not([hidden])", { timeout: 30000 });
  assert.equal(await page.getAttribute("#challenged-verdict", "data-same"), "true");
  const shown = await page.$$eval("#opened dd", (dds) => dds.map((d) => d.textContent));
  assert.equal(shown.length, selections.length);
}

async function check(page, tracker) {
  await page.fill("#check-tracker", tracker);
  await page.click("#check-button");
  await page.waitForFunction(() => {
    const s = document.getElementById("check-result").dataset.status;
    return s && s !== "";
  });
  const status = await page.getAttribute("#check-result", "data-status");
  await page.evaluate(() => delete document.getElementById("check-result").dataset.status);
  return status;
}

const choices = {
  a: [[1, 0], [0, 1, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0, 0], [3, 2, 0, 0]],
  b: [[0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1, 0], [0, 0, 1, 1]],
  c: [[1, 0], [1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0, 0], [1, 1, 1, 1]],
  d: [[0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 3]],
  e: [[1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1, 1, 0, 0], [2, 0, 2, 0]],
};
const voters = {};
const timings = [];
const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1000, height: 900 } });

// Voter 1 audits the device: challenge, check what it opened, then vote with another choice.
{
  const page = await openBooth(context);
  await screenshot(page, "voter1-ballot");
  await choose(page, choices.a);
  const first = await encrypt(page, { text: credentialOf(1) });
  timings.push(first.ms);
  await screenshot(page, "voter1-tracker");
  await challenge(page, choices.a);
  await screenshot(page, "voter1-challenged");
  assert.equal(await check(page, first.tracker), "challenged");
  await page.click("#start-again");
  await choose(page, choices.b);
  const second = await encrypt(page, { text: credentialOf(1) });
  timings.push(second.ms);
  assert.notEqual(second.tracker, first.tracker);
  const receipt = await cast(page);
  await screenshot(page, "voter1-cast");
  voters[1] = { selections: choices.b, tracker: receipt.tracker, entry: receipt.entry };
  assert.deepEqual(page.errors, []);
  await page.close();
}

// Voter 2 first picks too many council members: refused before anything is encrypted.
{
  const page = await openBooth(context);
  const tooMany = structuredClone(choices.c);
  tooMany[2] = [1, 1, 1, 0, 0, 0, 0, 0];
  await choose(page, tooMany);
  await page.fill("#credential", credentialOf(2));
  await page.click("#encrypt");
  await page.waitForSelector("#alert:not([hidden])");
  assert.equal(await page.isHidden("#tracker-step"), true);
  assert.equal(await page.getAttribute("#contest-2", "aria-invalid"), "true");
  await screenshot(page, "voter2-refused");
  await choose(page, choices.c);
  const { ms } = await encrypt(page, { text: credentialOf(2) });
  timings.push(ms);
  const receipt = await cast(page);
  voters[2] = { selections: choices.c, tracker: receipt.tracker, entry: receipt.entry };
  await page.close();
}

// Voter 3 votes, then votes again: only the second ballot counts.
{
  const page = await openBooth(context);
  await choose(page, choices.d);
  timings.push((await encrypt(page, { text: credentialOf(3) })).ms);
  const first = await cast(page);
  await page.click("#vote-again");
  await choose(page, choices.e);
  timings.push((await encrypt(page, { text: credentialOf(3) })).ms);
  const second = await cast(page);
  assert.ok(second.entry > first.entry);
  assert.equal(await check(page, first.tracker), "superseded");
  assert.equal(await check(page, second.tracker), "counted");
  await screenshot(page, "voter3-revoted");
  voters[3] = { selections: choices.e, tracker: second.tracker, entry: second.entry };
  await page.close();
}

// Voter 4 uses the booth in Ukrainian, on a phone-sized screen, with the keyboard, and opens the
// credential from its file.
{
  const phone = await browser.newContext({ acceptDownloads: true, viewport: { width: 390, height: 844 }, isMobile: true });
  const page = await openBooth(phone, "?lang=uk");
  assert.equal(await page.getAttribute("html", "lang"), "uk");
  assert.equal(await page.textContent("#encrypt"), "Зашифрувати бюлетень");
  await screenshot(page, "voter4-ballot-uk");
  // Keyboard only: focus the first option and toggle it with the space bar.
  await page.focus("#c0o0");
  await page.keyboard.press("Space");
  assert.equal(await page.isChecked("#c0o0"), true);
  await choose(page, choices.a);
  timings.push((await encrypt(page, { file: credentialFile(4) })).ms);
  await screenshot(page, "voter4-tracker-uk");
  const receipt = await cast(page);
  await screenshot(page, "voter4-cast-uk");
  voters[4] = { selections: choices.a, tracker: receipt.tracker, entry: receipt.entry };
  // Switching the language keeps the page working.
  await page.selectOption("#language", "en");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await check(page, receipt.tracker), "counted");
  await phone.close();
}

// A ballot box that serves another election's context is refused by the pinned hash.
{
  const page = await context.newPage();
  await page.goto(`${url}/?election=${"00".repeat(64)}`);
  await page.waitForSelector("#alert:not([hidden])");
  assert.equal(await page.isHidden("#ballot"), true);
  await screenshot(page, "wrong-election-refused");
  await page.close();
}

// Encryption in this browser, timed in the page itself with the module the booth loaded.
const bench = await (async () => {
  const page = await openBooth(context);
  const v = JSON.parse(readFileSync(new URL("../../web/tests/vectors/one-of-ten.json", import.meta.url), "utf8"));
  const w = JSON.parse(readFileSync(new URL("../../web/tests/vectors/example.json", import.meta.url), "utf8"));
  const result = await page.evaluate(async ([vectors, runs]) => {
    const { Booth, fromHex } = await import("/booth/evote.js");
    const out = {};
    for (const [name, v] of vectors) {
      const booth = await Booth.load(await fetch("/booth/evote_web.wasm"));
      booth.loadElection(fromHex(v.context), v.election_hash);
      const times = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        booth.encrypt(v.credential, v.selections);
        booth.cast();
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      out[name] = { median: times[runs >> 1], min: times[0] };
    }
    return out;
  }, [[["example", w], ["one-of-ten", v]], 30]);
  await page.close();
  return result;
})();
for (const [name, r] of Object.entries(bench)) {
  console.log(`chromium ${browser.version()} ${name}: encrypt + prove + sign median ${r.median.toFixed(2)} ms (min ${r.min.toFixed(2)}, 30 runs)`);
}
console.log(`booth encryptions as the voters saw them (ms): ${timings.join(", ")}`);

writeFileSync(`${out}/voters.json`, JSON.stringify(voters, null, 2) + "\n");
await browser.close();
console.log(`${Object.keys(voters).length} voters voted in the browser; ${shot} screenshots in ${out}`);
