// "Check my entry" in the browser: the receipt never leaves it. The page asks this
// server only for its public key and its signed proof of the entry, then checks both
// Ed25519 signatures (WebCrypto) and the audit path (RFC 9162) itself, as
// docs/fairness-v2.md ("Signatures") specifies and `fairdraw verify-receipt` does.
//
// Whatever it cannot settle itself (a receipt it cannot read, a signature that fails,
// an answer that proves nothing) it leaves to the server: the form is then submitted as
// it would be without this file, and the server's page says why. So does a browser
// without Ed25519 in WebCrypto, or a page not in a secure context (plain http).

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const encoder = new TextEncoder();
// RFC 8032's first test key: importing it shows whether WebCrypto has Ed25519.
const PROBE_KEY = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

const form = document.querySelector(".fd-check-entry-form");
let download = null; // the object URL of the complaint offered last

function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

// canonical(x): sorted keys, no spaces, no escapes of printable characters, as Python's
// json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False). The keys of the
// statements checked here are ASCII, so the default sort is code point order.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const isIndex = (value) => Number.isSafeInteger(value) && value >= 0;

// The signed part of a receipt as the API gives it (`signed`) or as the specification
// writes it; null unless it has the shape of a receipt statement.
function signedPart(receipt) {
  const signed = receipt && typeof receipt === "object" && "signed" in receipt ? receipt.signed : receipt;
  const statement = signed && signed.statement;
  if (!statement || typeof signed.signature !== "string" || !HEX128.test(signed.signature)) return null;
  if (statement.type !== "receipt" || typeof statement.draw_id !== "string") return null;
  if (!isIndex(statement.index) || typeof statement.ref !== "string") return null;
  if (!HEX64.test(statement.key_id)) return null;
  return { statement: statement, signature: signed.signature };
}

function isEntryProof(answer, receipt) {
  const s = answer && answer.statement;
  return (
    s &&
    s.type === "entry-proof" &&
    typeof answer.signature === "string" &&
    HEX128.test(answer.signature) &&
    s.draw_id === receipt.statement.draw_id &&
    s.index === receipt.statement.index &&
    s.key_id === receipt.statement.key_id &&
    (s.ref === null || typeof s.ref === "string") &&
    HEX64.test(s.root) &&
    isIndex(s.entry_count) &&
    Array.isArray(s.path) &&
    s.path.every((h) => HEX64.test(h))
  );
}

async function signatureHolds(key, signed) {
  const label = encoder.encode(`fairdraw/2 ${signed.statement.type}\0`);
  const message = concat(label, encoder.encode(canonical(signed.statement)));
  return crypto.subtle.verify("Ed25519", key, fromHex(signed.signature), message);
}

// RFC 9162, section 2.1.3.2, on BigInts: indexes may pass 2^32.
async function pathHolds(statement) {
  const { index, ref, entry_count: size, path, root } = statement;
  if (index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = await sha256(new Uint8Array([0]), encoder.encode(`${index}\t${ref}`));
  for (const hex of path) {
    const p = fromHex(hex);
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      r = await sha256(new Uint8Array([1]), p, r);
      while (fn !== 0n && !(fn & 1n)) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await sha256(new Uint8Array([1]), r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && toHex(r) === root;
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  return { status: response.status, body: await response.json().catch(() => null) };
}

// The outcome, settled in this browser; null when the server must say it.
async function checkHere(text) {
  let receipt;
  try {
    receipt = signedPart(JSON.parse(text));
  } catch {
    return null;
  }
  if (receipt === null) return null;
  const published = await getJson("/.well-known/fairdraw-signing-key");
  const publicKey = published.body && published.body.public_key;
  if (published.status !== 200 || !HEX64.test(publicKey)) return null;
  if (toHex(await sha256(fromHex(publicKey))) !== receipt.statement.key_id) return null;
  const key = await crypto.subtle.importKey("raw", fromHex(publicKey), "Ed25519", false, ["verify"]);
  if (!(await signatureHolds(key, receipt))) return null;
  const { draw_id: drawId, index } = receipt.statement;
  const draw = encodeURIComponent(drawId);
  const [proof, about] = await Promise.all([
    getJson(`/api/v1/draws/${draw}/entries/${index}/proof`),
    getJson(`/api/v1/draws/${draw}`),
  ]);
  const found = about.status === 200 ? about.body : null;
  if (proof.status === 404 && proof.body && proof.body.code === "not_sealed") {
    return { verdict: "not_sealed", draw: found };
  }
  const answer = proof.body;
  if (proof.status !== 200 || !isEntryProof(answer, receipt)) return null;
  if (!(await signatureHolds(key, answer))) return null;
  if (answer.statement.ref === receipt.statement.ref) {
    if (!(await pathHolds(answer.statement))) return null;
    // Drawn: whether the entry won, waits as an alternate, or was promoted.
    let standing = null;
    if (found !== null && found.status === "drawn") {
      const asked = await getJson(`/api/v1/draws/${draw}/entries/${index}/standing`);
      if (asked.status !== 200 || typeof asked.body?.text !== "string") return null;
      standing = asked.body.text;
    }
    return { verdict: "included", answer: answer.statement, draw: found, standing: standing };
  }
  const complaint = { type: "complaint", public_key: publicKey, receipt: receipt, answer: answer };
  return { verdict: "not_included", answer: answer.statement, draw: found, complaint: complaint };
}

function fill(root, name, value) {
  root.querySelectorAll(`[data-slot="${name}"]`).forEach((element) => {
    element.textContent = value;
  });
}

function show(outcome) {
  const view = document.getElementById(`outcome-${outcome.verdict}`).content.cloneNode(true);
  const answer = outcome.answer;
  if (answer) {
    fill(view, "index", String(answer.index));
    fill(view, "entry_count", String(answer.entry_count));
    fill(view, "ref", answer.ref === null ? window.fdMessage("check.ledger_shorter") : answer.ref);
    fill(view, "root", answer.root);
    fill(view, "sealed_at", answer.sealed_at);
    view.querySelectorAll("[data-when]").forEach((element) => {
      element.hidden = (element.dataset.when === "left-out") !== (answer.ref === null);
    });
  }
  if (outcome.standing) {
    fill(view, "standing", outcome.standing);
    view.querySelector('[data-shows="standing"]').hidden = false;
  }
  if (outcome.draw) {
    const link = view.querySelector('[data-slot="draw"]');
    link.textContent = outcome.draw.title;
    link.href = `/draws/${encodeURIComponent(outcome.draw.id)}`;
    view.querySelector('[data-shows="draw"]').hidden = false;
  }
  if (download !== null) URL.revokeObjectURL(download);
  download = null;
  if (outcome.complaint) {
    const text = `${canonical(outcome.complaint)}\n`;
    download = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = view.querySelector('[data-slot="download"]');
    link.href = download;
    const drawPart = answer.draw_id.replace(/[^A-Za-z0-9_-]/g, "_");
    link.download = `fairdraw-complaint-${drawPart}-${answer.index}.json`;
    fill(view, "complaint", text);
  }
  const box = document.getElementById("outcome");
  box.replaceChildren(view);
  box.classList.add("mb-5");
  box.dataset.checkedBy = "browser";
  document.getElementById("error-summary")?.remove();
  box.focus();
}

async function onSubmit(event) {
  event.preventDefault();
  const button = form.querySelector('button[type="submit"]');
  button.classList.add("is-loading");
  let outcome = null;
  try {
    outcome = await checkHere(form.elements.receipt.value);
  } catch {
    outcome = null; // a network failure or an odd answer: the server says what it is
  }
  button.classList.remove("is-loading");
  if (outcome === null) {
    form.submit();
  } else {
    show(outcome);
  }
}

async function ed25519Available() {
  if (!window.isSecureContext || !globalThis.crypto?.subtle) return false;
  try {
    await crypto.subtle.importKey("raw", fromHex(PROBE_KEY), "Ed25519", false, ["verify"]);
    return true;
  } catch {
    return false;
  }
}

if (form) {
  ed25519Available().then((available) => {
    if (available) {
      form.addEventListener("submit", onSubmit);
      form.dataset.checksHere = "true";
    }
  });
}
