// The booth page (docs/booth.md). The cryptography is the evote library compiled to
// WebAssembly (evote.js loads it); this file draws the ballot, talks to the ballot box and
// keeps the voter's choices between steps.
import { Booth, BoothError, fromHex } from "./evote.js";
import { STRINGS } from "./strings.js";

const $ = (id) => document.getElementById(id);
let lang = pickLanguage();
let booth = null; // the loaded module
let election = null; // the module's view of the election
let ballotBox = null; // GET /election: the ballot box's key and the election hash
let pending = null; // { tracker, selections }

function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang") || localStorage.getItem("evote-lang");
  if (asked && STRINGS[asked]) return asked;
  const browser = (navigator.language || "en").slice(0, 2);
  return STRINGS[browser] ? browser : "en";
}

function t(key, values = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function applyLanguage() {
  document.documentElement.lang = lang;
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-text]")) el.textContent = t(el.dataset.text);
  if (election) renderElection();
}

function setStatus(text) {
  $("status").textContent = text;
}

function showAlert(text) {
  const el = $("alert");
  el.textContent = text;
  el.hidden = !text;
}

function show(section) {
  for (const id of ["ballot", "tracker-step", "challenged-step", "cast-step"]) $(id).hidden = id !== section;
  const heading = $(section).querySelector("h2");
  if (heading) heading.focus();
}

function grouped(hex) {
  return hex.match(/.{1,8}/g).join(" ");
}

// A contest's rule, in words.
function rule(c) {
  const parts = [];
  if (c.min_selections === c.max_selections) parts.push(t("rule_exactly", { min: c.min_selections }));
  else if (c.min_selections === 0) parts.push(t("rule_up_to", { max: c.max_selections }));
  else parts.push(t("rule_range", { min: c.min_selections, max: c.max_selections }));
  if (c.option_limit > 1) parts.push(t("rule_option_limit", { limit: c.option_limit }));
  return parts.join(" ");
}

function renderElection() {
  $("election-title").textContent = election.title;
  $("fingerprint").textContent = grouped(election.election_hash);
  $("revoting").textContent = t(election.revoting === "refused" ? "revoting_refused" : "revoting_last_counts");
  const kept = $("contests").childElementCount ? readSelections() : null;
  const box = $("contests");
  box.replaceChildren();
  election.contests.forEach((c, ci) => {
    const fs = document.createElement("fieldset");
    fs.id = `contest-${ci}`;
    const legend = document.createElement("legend");
    legend.textContent = c.title;
    const ruleText = document.createElement("p");
    ruleText.className = "rule";
    ruleText.id = `rule-${ci}`;
    ruleText.textContent = rule(c);
    fs.append(legend, ruleText);
    c.options.forEach((name, oi) => {
      const row = document.createElement("div");
      row.className = "option";
      const input = document.createElement("input");
      input.id = `c${ci}o${oi}`;
      input.dataset.contest = ci;
      input.dataset.option = oi;
      input.setAttribute("aria-describedby", `rule-${ci} status-${ci}`);
      const label = document.createElement("label");
      label.htmlFor = input.id;
      if (c.option_limit === 1) {
        input.type = "checkbox";
        label.textContent = name;
        if (kept) input.checked = kept[ci][oi] === 1;
        row.append(input, label);
      } else {
        input.type = "number";
        input.min = "0";
        input.max = String(c.option_limit);
        input.step = "1";
        input.value = kept ? String(kept[ci][oi]) : "0";
        input.inputMode = "numeric";
        label.textContent = name;
        input.setAttribute("aria-label", t("votes_for", { option: name }));
        row.append(input, label);
      }
      input.addEventListener("input", () => updateStatus(ci));
      fs.append(row);
    });
    const status = document.createElement("p");
    status.className = "contest-status";
    status.id = `status-${ci}`;
    status.setAttribute("aria-live", "polite");
    fs.append(status);
    box.append(fs);
    updateStatus(ci);
  });
}

function readSelections() {
  return election.contests.map((c, ci) =>
    c.options.map((_, oi) => {
      const input = $(`c${ci}o${oi}`);
      if (!input) return 0;
      if (input.type === "checkbox") return input.checked ? 1 : 0;
      const v = Number(input.value);
      return Number.isInteger(v) && v >= 0 ? v : -1;
    }),
  );
}

// The contest's state in words; true when it is valid.
function updateStatus(ci) {
  const c = election.contests[ci];
  const values = readSelections()[ci];
  const sum = values.reduce((a, b) => a + Math.max(b, 0), 0);
  let text = t("status_ok");
  let ok = true;
  if (values.some((v) => v < 0 || v > c.option_limit)) {
    text = t("status_option", { limit: c.option_limit });
    ok = false;
  } else if (sum < c.min_selections) {
    text = t("status_few", { n: c.min_selections - sum });
    ok = false;
  } else if (sum > c.max_selections) {
    text = t("status_many", { n: sum - c.max_selections });
    ok = false;
  }
  const el = $(`status-${ci}`);
  el.textContent = text;
  el.classList.toggle("bad", !ok);
  $(`contest-${ci}`).setAttribute("aria-invalid", String(!ok));
  return ok;
}

// The next frame is painted before the synchronous module call (the progress state shows).
const painted = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

async function encrypt(event) {
  event.preventDefault();
  showAlert("");
  const credential = $("credential").value.trim();
  const selections = readSelections();
  const invalid = election.contests.findIndex((_, ci) => !updateStatus(ci));
  try {
    if (invalid >= 0) throw new BoothError(`${election.contests[invalid].title}: ${$(`status-${invalid}`).textContent}`);
    booth.check(selections);
  } catch (e) {
    showAlert(t("fix_first", { reason: e.message }));
    $(invalid >= 0 ? `contest-${invalid}` : "contests").querySelector("input")?.focus();
    return;
  }
  if (!credential) {
    showAlert(t("credential_missing"));
    $("credential").focus();
    return;
  }
  $("encrypt").disabled = true;
  setStatus(t("encrypting"));
  await painted();
  try {
    const start = performance.now();
    const { tracker } = booth.encrypt(credential, selections);
    const ms = Math.round(performance.now() - start);
    pending = { tracker, selections };
    $("tracker").textContent = grouped(tracker);
    $("encrypted-in").textContent = t("encrypted_in", { ms });
    $("encrypted-in").dataset.ms = String(ms);
    setStatus("");
    show("tracker-step");
  } catch (e) {
    setStatus("");
    showAlert(e.message);
  } finally {
    $("encrypt").disabled = false;
  }
}

async function post(path, hexBytes) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: fromHex(hexBytes),
    });
  } catch (e) {
    throw new BoothError(t("network", { reason: e.message }));
  }
  const body = await response.json().catch(() => ({}));
  if (response.status !== 201) throw new BoothError(t("refused", { reason: body.error || response.status }));
  return body;
}

// The module checks the box's signed receipt for this ballot before the page trusts it.
function checkedReceipt(answer, tracker) {
  try {
    return booth.checkReceipt(answer.receipt, ballotBox.ballot_box_key, tracker);
  } catch (e) {
    throw new BoothError(t("receipt_bad", { reason: e.message }));
  }
}

function busy(on) {
  for (const id of ["cast", "challenge"]) $(id).disabled = on;
  setStatus(on ? t("sending") : "");
}

async function cast() {
  showAlert("");
  busy(true);
  try {
    const { ballot, tracker } = booth.cast();
    const answer = await post("/ballots", ballot);
    const checked = checkedReceipt(answer, tracker);
    $("cast-done").textContent = t("cast_done", { entry: checked.entry });
    $("cast-done").dataset.entry = String(checked.entry);
    $("cast-tracker").textContent = grouped(tracker);
    $("cast-tracker").dataset.tracker = tracker;
    const saved = JSON.stringify(
      {
        election_hash: election.election_hash,
        ballot_box_key: ballotBox.ballot_box_key,
        entry: checked.entry,
        tracker,
        head: checked.head,
        receipt: answer.receipt,
      },
      null,
      2,
    );
    const link = $("save-receipt");
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([saved + "\n"], { type: "application/json" }));
    link.download = `receipt-${tracker.slice(0, 16)}.json`;
    $("check-tracker").value = tracker;
    pending = null;
    show("cast-step");
  } catch (e) {
    // The ballot was consumed: the voter encrypts again.
    showAlert(e.message);
    show("ballot");
  } finally {
    busy(false);
  }
}

function describe(selections) {
  const dl = $("opened");
  dl.replaceChildren();
  election.contests.forEach((c, ci) => {
    const dt = document.createElement("dt");
    dt.textContent = c.title;
    const dd = document.createElement("dd");
    const chosen = c.options
      .map((name, oi) => [name, selections[ci][oi]])
      .filter(([, v]) => v > 0)
      .map(([name, v]) => (c.option_limit > 1 ? `${name} × ${v}` : name));
    dd.textContent = chosen.length ? chosen.join(", ") : t("blank");
    dd.dataset.contest = String(ci);
    dl.append(dt, dd);
  });
}

async function challenge() {
  showAlert("");
  busy(true);
  try {
    const opened = booth.challenge();
    describe(opened.selections);
    const answer = await post("/challenges", opened.ballot);
    checkedReceipt(answer, opened.tracker);
    // The ballot box opened the challenge itself: another program than this page.
    const same = JSON.stringify(answer.selections) === JSON.stringify(opened.selections);
    $("challenged-verdict").textContent = t(same ? "challenged_same" : "challenged_differs");
    $("challenged-verdict").dataset.same = String(same);
    $("challenged-help").textContent = t("challenged_help", { entry: answer.entry });
    pending = null;
    show("challenged-step");
  } catch (e) {
    showAlert(e.message);
    show("ballot");
  } finally {
    busy(false);
  }
}

async function checkTracker(event) {
  event.preventDefault();
  const tracker = $("check-tracker").value.replace(/\s+/g, "").toLowerCase();
  const out = $("check-result");
  out.textContent = t("checking");
  try {
    const response = await fetch(`/trackers/${encodeURIComponent(tracker)}`);
    const body = await response.json();
    if (!response.ok) throw new BoothError(body.error || String(response.status));
    out.textContent = t(`status_${body.status}`, { entry: body.entry });
    out.dataset.status = body.status;
  } catch (e) {
    out.textContent = e.message;
    out.dataset.status = "error";
  }
}

async function start() {
  const select = $("language");
  for (const [code, table] of Object.entries(STRINGS)) select.add(new Option(table.lang_name, code, false, code === lang));
  select.addEventListener("change", () => {
    lang = select.value;
    localStorage.setItem("evote-lang", lang);
    applyLanguage();
  });
  applyLanguage();
  try {
    ballotBox = await (await fetch("/election")).json();
    // A link from the election authority may pin the election: ?election=<H_E>.
    const pinned = new URLSearchParams(location.search).get("election") || ballotBox.election_hash;
    const [module, context] = await Promise.all([
      fetch("/booth/evote_web.wasm").then((r) => {
        if (!r.ok) throw new BoothError(t("no_module"));
        return Booth.load(r);
      }),
      fetch("/election/context.bin").then((r) => r.arrayBuffer()),
    ]);
    booth = module;
    election = booth.loadElection(new Uint8Array(context), pinned);
    renderElection();
    setStatus("");
    show("ballot");
    document.body.dataset.ready = "true";
  } catch (e) {
    setStatus("");
    showAlert(t("load_failed", { reason: e.message }));
  }
  $("ballot-form").addEventListener("submit", encrypt);
  $("cast").addEventListener("click", cast);
  $("challenge").addEventListener("click", challenge);
  $("start-again").addEventListener("click", () => show("ballot"));
  $("vote-again").addEventListener("click", () => show("ballot"));
  $("check-form").addEventListener("submit", checkTracker);
  $("credential-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) $("credential").value = (await file.text()).trim();
  });
}

start();
