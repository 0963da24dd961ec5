// The /verify page: choose or drop a proof bundle and its entries file (or name them in
// ?bundle=…&entries=…, same-origin URLs only), verify them in this browser, and show
// every check. The report, as JSON, is also on #verify-result's data-report attribute.

import { report as reportOf } from "./report.js";
import { checkSubstitutions } from "./substitutions.js";
import { chainFromJson, parseDocument, QUICKNET, verifyBytes } from "./verifier.js";

// What each check shows, in the page's language (web/script_text.py, verify_check.*).
const fdMessage = window.fdMessage;
const DESCRIPTIONS = Object.fromEntries(
  [
    "format",
    "entry_count",
    "merkle_root",
    "commitment",
    "slots",
    "beacon",
    "openings",
    "winners",
    "alternates",
    "unawarded",
    "log",
    "substitutions_format",
    "substitutions_bundle",
    "substitutions_order",
  ].map((name) => [name, window.fdMessage("verify_check." + name)]),
);

const form = document.getElementById("verify-form");
const inputs = {
  bundle: document.getElementById("bundle-file"),
  entries: document.getElementById("entries-file"),
  chain: document.getElementById("chain-file"),
  substitutions: document.getElementById("substitutions-file"),
};
const status = document.getElementById("verify-status");
const progress = document.getElementById("verify-progress");
const result = document.getElementById("verify-result");
const verdict = document.getElementById("verify-verdict");
const trust = document.getElementById("verify-trust");
const list = document.getElementById("verify-checks");
const source = document.getElementById("verify-source");

function say(text) {
  status.textContent = text;
}

/** "a, b and c", as the page's language joins a list. */
function joined(names) {
  if (names.length < 2) return names.join("");
  return fdMessage("verify.list", { items: names.slice(0, -1).join(", "), last: names[names.length - 1] });
}

function setState(state) {
  result.dataset.state = state;
  form.querySelector("button[type=submit]").disabled = state === "running";
}

function showProgress(done, total) {
  progress.hidden = false;
  progress.max = Math.max(total, 1);
  progress.value = done;
  const lang = document.documentElement.lang || "en";
  say(fdMessage("verify.hashing", { done: done.toLocaleString(lang), total: total.toLocaleString(lang) }));
}

function statusOf(check) {
  if (check.ok) return ["pass", fdMessage("verify.pass"), "is-success"];
  if (check.detail.startsWith("not checked:")) return ["skipped", fdMessage("verify.skipped"), "is-light"];
  return ["fail", fdMessage("verify.fail"), "is-danger"];
}

function renderCheck(check) {
  const [state, text, tag] = statusOf(check);
  const item = document.createElement("li");
  item.className = `fd-verify-check fd-verify-${state}`;
  item.dataset.check = check.name;
  item.dataset.status = state;
  const head = document.createElement("p");
  head.className = "fd-verify-check-head";
  const name = document.createElement("code");
  name.className = "fd-verify-name";
  name.textContent = check.name;
  const badge = document.createElement("span");
  badge.className = `tag ${tag} fd-verify-status`;
  badge.textContent = text;
  head.append(name, " ", badge);
  const about = document.createElement("p");
  about.className = "fd-verify-about";
  about.textContent = DESCRIPTIONS[check.name] ?? "";
  const detail = document.createElement("p");
  detail.className = "fd-verify-detail fd-mono";
  detail.textContent = check.detail;
  item.append(head, about, detail);
  return item;
}

function showReport(report) {
  result.dataset.report = JSON.stringify(report);
  result.hidden = false;
  list.replaceChildren(...report.checks.map(renderCheck));
  verdict.className = `notification ${report.ok ? "is-success" : "is-danger"} is-light fd-verify-verdict`;
  if (report.ok) {
    verdict.textContent = fdMessage(report.trusts_operator ? "verify.passed_trusting" : "verify.passed");
  } else {
    const failed = report.checks.find((c) => !c.ok);
    verdict.textContent = fdMessage("verify.failed", { name: failed.name, detail: failed.detail });
  }
  // Whom a passing draw trusts; a failing one is not to be trusted at all.
  const trusting = report.ok && report.trusts_operator;
  trust.hidden = !trusting;
  trust.textContent = trusting ? fdMessage("verify.trusts_operator") : "";
  say(
    report.ok
      ? fdMessage("verify.finished_pass")
      : fdMessage("verify.finished_fail", { name: report.checks.find((c) => !c.ok).name }),
  );
  document.getElementById("verify-result-heading").focus();
}

function showError(message) {
  result.hidden = true;
  delete result.dataset.report;
  setState("error");
  progress.hidden = true;
  say(message);
}

/** Clear the last result: a new verification is under way. */
function start() {
  setState("running");
  result.hidden = true;
  delete result.dataset.report;
}

/** Verify the bytes; `label` says where they came from. */
async function run(bundle, entries, chainBytes, label, substitutions = null) {
  source.textContent = label;
  const chains = [QUICKNET];
  if (chainBytes !== null) {
    const parsed = parseDocument(chainBytes, "the beacon chain file");
    try {
      if (parsed.error !== undefined) throw new Error(parsed.error);
      chains.push(chainFromJson(parsed.value));
    } catch (error) {
      showError(fdMessage("verify.chain_unusable", { error: error.message }));
      return;
    }
  }
  say(fdMessage("verify.verifying"));
  try {
    let report = await verifyBytes(bundle, entries, { chains, onProgress: showProgress });
    if (substitutions !== null) {
      const checks = [...report.checks, ...(await checkSubstitutions(bundle, substitutions))];
      const { algorithm, trusts_operator: trustsOperator } = report;
      report = reportOf(checks, { algorithm, trustsOperator });
    }
    progress.hidden = true;
    showReport(report);
    setState("done");
  } catch (error) {
    showError(fdMessage("verify.could_not_run", { error: error.message }));
  }
}

async function readFile(input) {
  const file = input.files[0];
  return file === undefined ? null : new Uint8Array(await file.arrayBuffer());
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  start();
  const [bundle, entries, chain, substitutions] = await Promise.all(
    [inputs.bundle, inputs.entries, inputs.chain, inputs.substitutions].map(readFile),
  );
  if (bundle === null || entries === null) {
    showError(fdMessage("verify.choose_both"));
    (bundle === null ? inputs.bundle : inputs.entries).focus();
    return;
  }
  const names = [inputs.bundle, inputs.entries].map((i) => i.files[0].name);
  await run(bundle, entries, chain, fdMessage("verify.files", { names: joined(names) }), substitutions);
});

for (const zone of document.querySelectorAll("[data-drop-for]")) {
  const input = document.getElementById(zone.dataset.dropFor);
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("is-dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("is-dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("is-dragging");
    if (event.dataTransfer.files.length > 0) {
      const chosen = new DataTransfer();
      chosen.items.add(event.dataTransfer.files[0]);
      input.files = chosen.files;
    }
  });
}

/** The bytes at a URL of this site; anything else is refused before a request is made. */
async function fetchSameOrigin(value, what) {
  let url;
  try {
    url = new URL(value, location.href);
  } catch {
    throw new Error(`the ${what} URL is not a URL`);
  }
  if (url.origin !== location.origin) {
    throw new Error(
      `the ${what} URL is on another site (${url.origin}); only this site's files are fetched`,
    );
  }
  const response = await fetch(url, { credentials: "same-origin" });
  if (new URL(response.url).origin !== location.origin) {
    throw new Error(`the ${what} URL left this site`);
  }
  if (!response.ok) throw new Error(`fetching the ${what} gave HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function runFromQuery() {
  const query = new URLSearchParams(location.search);
  const wanted = ["bundle", "entries", "chain", "substitutions"].filter((name) => query.has(name));
  if (!query.has("bundle") && !query.has("entries")) return;
  if (!query.has("bundle") || !query.has("entries")) {
    showError(fdMessage("verify.one_file"));
    return;
  }
  start();
  say(fdMessage("verify.fetching"));
  let files;
  try {
    files = await Promise.all(wanted.map((name) => fetchSameOrigin(query.get(name), name)));
  } catch (error) {
    showError(fdMessage("verify.could_not_fetch", { error: error.message }));
    return;
  }
  const named = Object.fromEntries(wanted.map((name, i) => [name, files[i]]));
  await run(
    named.bundle,
    named.entries,
    named.chain ?? null,
    fdMessage("verify.from_site", { bundle: query.get("bundle"), entries: query.get("entries") }),
    named.substitutions ?? null,
  );
}

setState("idle");
runFromQuery();
