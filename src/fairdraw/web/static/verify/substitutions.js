// A draw's substitutions record (forfeit and promote) checked against its proof bundle:
// the checks, their order, names and details of fairdraw's Python verifier
// (fairdraw.domain.substitution_check). Every substitution is replayed: the prize of a
// forfeited winner goes to the first alternate, in the bundle's order, who is not a
// current winner, was not promoted and did not forfeit; with none left, to nobody.

import { sameBytes, toHex, utf8 } from "./bytes.js";
import { sha256 } from "./hashing.js";
import { canonicalJson, isInteger, isObject } from "./json.js";
import { check, FormatError, notChecked, pyRepr } from "./report.js";
import { parseDocument } from "./verifier.js";

export const CHECKS = ["substitutions_format", "substitutions_bundle", "substitutions_order"];
const RECORD_FORMAT = "fairdraw/2 substitutions";
const REASON_MAX = 500;
const RECORD_FIELDS = ["bundle", "draw", "format", "substitutions"];
const FIELDS = ["at", "forfeited", "prize", "promoted", "reason", "slot"];
const PICK_FIELDS = ["index", "ref"];
const PROMOTED_FIELDS = ["alternate", "index", "ref"];
const HASH = /^[0-9a-f]{64}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// What Python's str.strip() removes (str.isspace()).
const SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PADDED = new RegExp(`^[${SPACE}]|[${SPACE}]$`, "u");

/**
 * The checks of the substitutions `record` (bytes) against the proof `bundle` (bytes):
 * [{name, ok, detail}] in the order of CHECKS.
 */
export async function checkSubstitutions(bundleBytes, recordBytes) {
  let bundle;
  let document;
  let made;
  try {
    bundle = readBundle(bundleBytes);
    document = readCanonical(recordBytes, "the substitutions record");
    made = readRecord(document);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    return [
      check(CHECKS[0], false, error.message),
      ...notChecked(CHECKS.slice(1), CHECKS[0]),
    ];
  }
  const count = made.length;
  return [
    check(CHECKS[0], true, `${count} substitution${count === 1 ? "" : "s"}, canonical JSON`),
    await checkBundle(bundle, document),
    checkOrder(bundle, made),
  ];
}

async function checkBundle(bundle, record) {
  const drawId = bundle.draw.id;
  if (record.draw !== drawId) {
    return check(CHECKS[1], false, `the record is of draw ${record.draw}, the bundle of ${drawId}`);
  }
  const core = Object.create(null);
  for (const [name, value] of Object.entries(bundle)) if (name !== "log") core[name] = value;
  const expected = toHex(await sha256(utf8(canonicalJson(core))));
  if (record.bundle !== expected) {
    return check(
      CHECKS[1],
      false,
      `the record amends bundle ${record.bundle}, this bundle is ${expected}`,
    );
  }
  return check(CHECKS[1], true, `amends this bundle (${expected})`);
}

function checkOrder(bundle, made) {
  const replayed = [];
  for (const [number, sub] of made.entries()) {
    let problem = problemOf(bundle, replayed, sub);
    const previous = replayed[replayed.length - 1];
    if (problem === null && previous !== undefined && sub.at < previous.at) {
      problem = `its time ${sub.at} is before the previous one's (${previous.at})`;
    }
    if (problem !== null) return check(CHECKS[2], false, `substitution ${number}: ${problem}`);
    replayed.push(sub);
  }
  if (made.length === 0) return check(CHECKS[2], true, "no substitutions: the drawn winners stand");
  return check(CHECKS[2], true, "every substitution followed the published alternate order");
}

// -- the rule ------------------------------------------------------------------------------------

function holdings(bundle, made) {
  const held = new Map();
  for (const w of bundle.winners) {
    held.set(Number(w.slot), { slot: Number(w.slot), prize: w.prize, holder: pick(w), rank: null });
  }
  for (const sub of made) {
    const holder = sub.promoted === null ? null : sub.promoted;
    held.set(sub.slot, { slot: sub.slot, prize: sub.prize, holder, rank: sub.promoted?.alternate });
  }
  return [...held.values()].sort((a, b) => a.slot - b.slot);
}

function pick(item) {
  return { index: Number(item.index), ref: item.ref };
}

function nextAlternate(bundle, made) {
  const taken = new Set();
  for (const holding of holdings(bundle, made)) if (holding.holder) taken.add(holding.holder.index);
  for (const sub of made) {
    taken.add(sub.forfeited.index);
    if (sub.promoted !== null) taken.add(sub.promoted.index);
  }
  for (const [position, alternate] of bundle.alternates.entries()) {
    const candidate = pick(alternate);
    if (!taken.has(candidate.index)) return { alternate: position + 1, ...candidate };
  }
  return null;
}

function promotion(promoted) {
  if (promoted === null) return "nobody (not awarded)";
  return `alternate #${promoted.alternate} (entry ${promoted.index}, ref ${promoted.ref})`;
}

function samePromotion(a, b) {
  if (a === null || b === null) return a === b;
  return a.alternate === b.alternate && a.index === b.index && a.ref === b.ref;
}

/** What is wrong with `sub` after the substitutions `before`, or null. */
function problemOf(bundle, before, sub) {
  const held = holdings(bundle, before).find(
    (h) => h.holder !== null && h.holder.index === sub.forfeited.index,
  );
  if (held === undefined) return `entry ${sub.forfeited.index} held no prize then`;
  const forfeited = held.holder;
  if (
    sub.slot !== held.slot ||
    sub.prize !== held.prize ||
    sub.forfeited.ref !== forfeited.ref
  ) {
    return (
      `entry ${sub.forfeited.index} held slot ${held.slot} (${held.prize}, ref ${forfeited.ref}), ` +
      `the record says slot ${sub.slot} (${sub.prize}, ref ${sub.forfeited.ref})`
    );
  }
  const expected = nextAlternate(bundle, before);
  if (!samePromotion(sub.promoted, expected)) {
    return `promoted ${promotion(sub.promoted)}, but the next was ${promotion(expected)}`;
  }
  return null;
}

// -- reading -------------------------------------------------------------------------------------

function readBundle(bytes) {
  const parsed = parseDocument(bytes, "the bundle");
  if (parsed.error !== undefined) throw new FormatError(parsed.error);
  const bundle = parsed.value;
  if (!isObject(bundle)) throw new FormatError("the bundle must be a JSON object");
  if (!isObject(bundle.draw) || typeof bundle.draw.id !== "string") {
    throw new FormatError("the bundle has no draw.id");
  }
  for (const name of ["winners", "alternates"]) {
    const items = bundle[name];
    if (!Array.isArray(items) || !items.every(isObject)) {
      throw new FormatError(`the bundle's ${name} must be a list of objects`);
    }
  }
  return bundle;
}

function readCanonical(bytes, what) {
  const parsed = parseDocument(bytes, what);
  if (parsed.error !== undefined) throw new FormatError(parsed.error);
  if (parsed.firstFloat !== null) {
    throw new FormatError(`${what} is not canonical JSON: ${parsed.firstFloat} is not an integer`);
  }
  const canonical = utf8(canonicalJson(parsed.value));
  const body = bytes[bytes.length - 1] === 0x0a ? bytes.subarray(0, bytes.length - 1) : bytes;
  if (sameBytes(body, canonical)) return parsed.value;
  let at = 0;
  while (at < body.length && at < canonical.length && body[at] === canonical[at]) at++;
  const excerpt = (data) => {
    const piece = data.subarray(at, at + 12);
    return piece.length > 0 ? pyRepr(new TextDecoder().decode(piece)) : "the end";
  };
  throw new FormatError(
    `${what} is not canonical JSON: byte ${at} is ${excerpt(body)}, canonical JSON has ${excerpt(canonical)}`,
  );
}

function readRecord(document) {
  exact(document, RECORD_FIELDS, "the record");
  if (document.format !== RECORD_FORMAT) {
    throw new FormatError(`format must be ${pyRepr(RECORD_FORMAT)}`);
  }
  if (typeof document.draw !== "string") throw new FormatError("draw must be a string");
  if (typeof document.bundle !== "string" || !HASH.test(document.bundle)) {
    throw new FormatError("bundle must be 64 lowercase hex characters");
  }
  if (!Array.isArray(document.substitutions)) {
    throw new FormatError("substitutions must be a list");
  }
  return document.substitutions.map((item, n) => readSubstitution(item, `substitutions[${n}]`));
}

function readSubstitution(item, where) {
  exact(item, FIELDS, where);
  const { at, reason, prize } = item;
  if (typeof at !== "string" || !ISO_MS.test(at)) {
    throw new FormatError(`${where}.at must be ISO-8601 UTC with milliseconds`);
  }
  if (typeof prize !== "string") throw new FormatError(`${where}.prize must be a string`);
  if (typeof reason !== "string" || reason === "" || PADDED.test(reason)) {
    throw new FormatError(`${where}.reason must be a trimmed, non-empty string`);
  }
  if ([...reason].length > REASON_MAX) {
    throw new FormatError(`${where}.reason is longer than ${REASON_MAX} characters`);
  }
  const forfeited = readPick(item.forfeited, PICK_FIELDS, `${where}.forfeited`);
  let promoted = null;
  if (item.promoted !== null) {
    const wherePromoted = `${where}.promoted`;
    const promotedPick = readPick(item.promoted, PROMOTED_FIELDS, wherePromoted);
    const rank = count(item.promoted.alternate, `${wherePromoted}.alternate`);
    if (rank < 1) throw new FormatError(`${wherePromoted}.alternate must be at least 1`);
    promoted = { alternate: rank, ...promotedPick };
  }
  const slot = count(item.slot, `${where}.slot`);
  return { at, slot, prize, forfeited, promoted, reason };
}

function readPick(value, fields, where) {
  exact(value, fields, where);
  if (typeof value.ref !== "string") throw new FormatError(`${where}.ref must be a string`);
  return { index: count(value.index, `${where}.index`), ref: value.ref };
}

function count(value, where) {
  if (!isInteger(value) || value < 0) throw new FormatError(`${where} must be an integer >= 0`);
  return Number(value);
}

function exact(value, fields, where) {
  if (!isObject(value)) throw new FormatError(`${where} must be a JSON object`);
  const missing = fields.filter((f) => !Object.hasOwn(value, f)).sort();
  const extra = Object.keys(value)
    .filter((k) => !fields.includes(k))
    .sort();
  if (missing.length > 0) throw new FormatError(`${where} lacks ${missing.join(", ")}`);
  if (extra.length > 0) throw new FormatError(`${where} has unknown fields: ${extra.join(", ")}`);
}
