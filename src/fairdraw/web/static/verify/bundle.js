// The fields both bundle versions share, shape and types checked in the order fairdraw's
// Python verifier checks them (so that the first problem named is the same).

import { isObject } from "./json.js";
import { refRule } from "./ledger.js";
import { FormatError } from "./report.js";
import { count, exactFields, field, hex, strings } from "./shapes.js";

const V2 = "fairdraw/2";

function ref(item, where, kind, algorithm) {
  const rule = refRule(algorithm, kind);
  if (typeof item.ref !== "string" || !rule.pattern.test(item.ref)) {
    throw new FormatError(`${where}.ref must be ${rule.text}`);
  }
  return item.ref;
}

function opening(item, where) {
  const value = item.opening;
  if (value === null) return null;
  exactFields(value, ["identity", "nonce"], `${where}.opening`);
  return {
    identity: field(value, "identity", "string", `${where}.opening`),
    nonce: hex(value, "nonce", `${where}.opening`, 16),
  };
}

function pick(item, label, where, kind, algorithm) {
  return {
    label,
    index: count(item, "index", where),
    ref: ref(item, where, kind, algorithm),
    opening: algorithm === V2 ? opening(item, where) : null,
  };
}

/**
 * The prizes, slots, seed, commitment, root, winners, alternates and unawarded slots of a
 * bundle whose draw, seal and kind are already checked. Throws FormatError.
 */
export function parseCommon(bundle, kind, algorithm) {
  const draw = bundle.draw;
  const prizes = field(draw, "prizes", "list", "draw").map((prize, at) => {
    const where = `draw.prizes[${at}]`;
    if (algorithm === V2) exactFields(prize, ["name", "quantity"], where);
    else if (!isObject(prize)) throw new FormatError(`${where} must be an object`);
    return [field(prize, "name", "string", where), count(prize, "quantity", where)];
  });
  const slots = strings(bundle.seal, "slots", "seal", "seal.slots must be a list of prize names");
  const withOpening = algorithm === V2 ? ["opening"] : [];
  const picks = [];
  const winners = field(bundle, "winners", "list", "bundle").map((item, at) => {
    const where = `winners[${at}]`;
    exactFields(item, ["slot", "prize", "index", "ref", ...withOpening], where);
    const slot = count(item, "slot", where);
    const prize = field(item, "prize", "string", where);
    const picked = pick(item, `winner ${at}`, where, kind, algorithm);
    picks.push(picked);
    return { slot, prize, index: picked.index, ref: picked.ref };
  });
  const pickedAlternates = field(bundle, "alternates", "list", "bundle").map((item, at) => {
    const where = `alternates[${at}]`;
    exactFields(item, ["index", "ref", ...withOpening], where);
    const picked = pick(item, `alternate ${at}`, where, kind, algorithm);
    picks.push(picked);
    return { index: picked.index, ref: picked.ref };
  });
  const unawarded = strings(
    bundle,
    "unawarded",
    "bundle",
    "unawarded must be a list of prize names",
  );
  return {
    kind,
    prizes,
    alternates: count(draw, "alternates", "draw"),
    onePerEntrant: field(draw, "one_prize_per_entrant", "bool", "draw"),
    root: hex(bundle.seal, "root", "seal", 32),
    entryCount: count(bundle.seal, "entry_count", "seal"),
    slots,
    commitment: hex(bundle, "commitment", "bundle", 32),
    seed: hex(bundle, "seed", "bundle", 32),
    winners,
    pickedAlternates,
    picks,
    unawarded,
  };
}
