// The /verify page: choose or drop a proof bundle and its entries file (or name them in
// ?bundle=…&entries=…, same-origin URLs only), verify them in this browser, and show
// every check. The report, as JSON, is also on #verify-result's data-report attribute.

import { report as reportOf } from "./report.js";
import { checkSubstitutions } from "./substitutions.js";
import { chainFromJson, parseDocument, QUICKNET, verifyBytes } from "./verifier.js";

const DESCRIPTIONS = {
  format:
    "The files are well-formed: the bundle is strict JSON with every field of the right type, the entries file one line per entry.",
  entry_count: "The entries file has exactly as many entries as were sealed.",
  merkle_root: "The entries file is exactly the list that was sealed before any winner was picked.",
  commitment: "The revealed seed is the one committed to when the draw opened.",
  slots: "The prizes and their quantities are the ones the draw announced.",
  beacon:
    "The public randomness is the beacon round fixed at the seal, signed by the beacon's pinned key.",
  openings: "Each winner's published identity is the one their entry committed to.",
  winners: "Re-running the algorithm on the sealed list picks the same winners.",
  alternates: "It picks the same alternates, in the same order.",
  unawarded: "The same prizes are left without a winner.",
  log: "The result is recorded in the public draw log, whose head the server signed.",
  substitutions_format: "The substitutions record is well-formed canonical JSON.",
  substitutions_bundle: "The substitutions amend this very proof.",
  substitutions_order:
    "Each forfeited prize went to the first alternate, in the published order, who had not won.",
};
const TRUSTS_OPERATOR =
  "This draw has no public beacon: the operator's secret seed alone decided the winners. " +
  "The checks show the winners follow from that seed and the sealed list, but not that " +
  "the operator did not know the seed before the entries were sealed. This draw trusts its operator.";

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

function say(message) {
  status.textContent = message;
}

function setState(state) {
  result.dataset.state = state;
  form.querySelector("button[type=submit]").disabled = state === "running";
}

function showProgress(done, total) {
  progress.hidden = false;
  progress.max = Math.max(total, 1);
  progress.value = done;
  say(`Hashing the entries: ${done.toLocaleString("en")} of ${total.toLocaleString("en")}`);
}

function statusOf(check) {
  if (check.ok) return ["pass", "Pass", "is-success"];
  if (check.detail.startsWith("not checked:")) return ["skipped", "Not checked", "is-light"];
  return ["fail", "Fail", "is-danger"];
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
    verdict.textContent = report.trusts_operator
      ? "PASS (trusts its operator: no beacon). Every check passed."
      : "PASS. Every check passed: the winners follow from the sealed entries and public randomness.";
  } else {
    const failed = report.checks.find((c) => !c.ok);
    verdict.textContent = `FAIL. The ${failed.name} check failed: ${failed.detail}`;
  }
  // Whom a passing draw trusts; a failing one is not to be trusted at all.
  const trusting = report.ok && report.trusts_operator;
  trust.hidden = !trusting;
  trust.textContent = trusting ? TRUSTS_OPERATOR : "";
  say(
    report.ok
      ? "Verification finished: PASS."
      : `Verification finished: FAIL (${report.checks.find((c) => !c.ok).name}).`,
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
      showError(`The beacon chain file is not usable: ${error.message}`);
      return;
    }
  }
  say("Verifying…");
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
    showError(`The verification could not run: ${error.message}`);
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
    showError("Choose both files: the proof bundle and the entries file.");
    (bundle === null ? inputs.bundle : inputs.entries).focus();
    return;
  }
  const names = [inputs.bundle, inputs.entries].map((i) => i.files[0].name);
  await run(bundle, entries, chain, `Files: ${names.join(" and ")}`, substitutions);
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
    showError("The link names only one file: it needs both ?bundle= and ?entries=.");
    return;
  }
  start();
  say("Fetching the files…");
  let files;
  try {
    files = await Promise.all(wanted.map((name) => fetchSameOrigin(query.get(name), name)));
  } catch (error) {
    showError(`Could not fetch the files: ${error.message}.`);
    return;
  }
  const named = Object.fromEntries(wanted.map((name, i) => [name, files[i]]));
  await run(
    named.bundle,
    named.entries,
    named.chain ?? null,
    `From this site: ${query.get("bundle")} and ${query.get("entries")}`,
    named.substitutions ?? null,
  );
}

setState("idle");
runFromQuery();
