// The checks both versions share: entry count, Merkle root, commitment, prize slots,
// winners, alternates and unawarded slots (docs/fairness.md, "Verifying a draw").

import { fromHex, sameBytes, toHex } from "./bytes.js";
import { sha256 } from "./hashing.js";
import { check, joinProblems, pyRepr } from "./report.js";
import { prizeSlots } from "./selection.js";

export const RESULT_CHECKS = ["winners", "alternates", "unawarded"];

// Integers compared by value, whether parsed as numbers or (beyond 2^53) as BigInts.
const same = (a, b) => BigInt(a) === BigInt(b);

function ticketProblem(p, entries, ticketCount) {
  if (p.entryCount > ticketCount) {
    return `the seal says ${p.entryCount} entries but the raffle has ${ticketCount} tickets`;
  }
  const claimed = new Map();
  for (let index = 0; index < entries.count; index++) {
    const ticket = entries.tickets[index];
    if (ticket > ticketCount) {
      return `entry ${index}: ticket ${ticket} is above the raffle's ${ticketCount} tickets`;
    }
    if (claimed.has(ticket)) {
      return `entry ${index}: ticket ${ticket} is also entry ${claimed.get(ticket)}`;
    }
    claimed.set(ticket, index);
  }
  return null;
}

/** The entries file has seal.entry_count lines; a raffle's tickets are distinct and in range. */
export function entryCountCheck(p, entries, ticketCount = null) {
  if (!same(p.entryCount, entries.count)) {
    return check(
      "entry_count",
      false,
      `the entries file has ${entries.count} entries but the seal says ${p.entryCount}`,
    );
  }
  if (ticketCount !== null) {
    const problem = ticketProblem(p, entries, ticketCount);
    if (problem !== null) return check("entry_count", false, problem);
    return check(
      "entry_count",
      true,
      `${p.entryCount} entries, distinct tickets of ${ticketCount}`,
    );
  }
  return check("entry_count", true, `${p.entryCount} entries`);
}

/** The root recomputed from the entries equals seal.root. */
export function rootCheck(p, entries) {
  const computed = toHex(entries.root);
  if (sameBytes(entries.root, fromHex(p.root))) {
    return check("merkle_root", true, `root ${computed}`);
  }
  return check(
    "merkle_root",
    false,
    `the seal's root is ${p.root} but the entries give ${computed}`,
  );
}

/** sha256(seed) equals the commitment. */
export async function commitmentCheck(p) {
  const computed = toHex(await sha256(fromHex(p.seed)));
  if (computed === p.commitment) {
    return check("commitment", true, "sha256(seed) matches the commitment");
  }
  return check(
    "commitment",
    false,
    `sha256(seed) is ${computed} but the commitment is ${p.commitment}`,
  );
}

/** The slots of draw.prizes equal seal.slots (and, in fairdraw/2, draw.alternates their number). */
export function slotsCheck(p, requireAlternates) {
  const sealSlots = p.slots;
  // Counted before they are listed: a bundle may claim more slots than memory holds.
  const total = p.prizes.reduce((sum, [, quantity]) => sum + BigInt(quantity), 0n);
  if (total !== BigInt(sealSlots.length)) {
    return check(
      "slots",
      false,
      `the seal lists ${sealSlots.length} slots but the prizes give ${total}`,
    );
  }
  const computed = prizeSlots(p.prizes);
  const r = computed.findIndex((s, at) => s !== sealSlots[at]);
  if (r >= 0) {
    return check(
      "slots",
      false,
      `slot ${r}: the seal says ${pyRepr(sealSlots[r])} but the prizes give ${pyRepr(computed[r])}`,
    );
  }
  if (requireAlternates && !same(p.alternates, computed.length)) {
    return check(
      "slots",
      false,
      `draw.alternates is ${p.alternates} but a draw has as many alternates as slots (${computed.length})`,
    );
  }
  return check("slots", true, `${computed.length} prize slots`);
}

function winnersCheck(p, outcome, refOf) {
  const problems = [];
  if (p.winners.length !== outcome.winners.length) {
    problems.push(
      `the bundle lists ${p.winners.length} winners, the algorithm gives ${outcome.winners.length}`,
    );
  }
  const n = Math.min(p.winners.length, outcome.winners.length);
  for (let at = 0; at < n; at++) {
    const { slot, prize, index, ref } = p.winners[at];
    const want = outcome.winners[at];
    if (!same(slot, want.slot)) {
      problems.push(`winner ${at}: the bundle says slot ${slot}, expected ${want.slot}`);
    } else if (prize !== want.prize) {
      problems.push(
        `slot ${slot}: the bundle says prize ${pyRepr(prize)}, the slot is ${pyRepr(want.prize)}`,
      );
    } else if (!same(index, want.index)) {
      problems.push(
        `slot ${slot} (${want.prize}): bundle says entry ${index}, the algorithm gives entry ${want.index}`,
      );
    } else if (ref !== refOf(want.index)) {
      problems.push(`slot ${slot}: entry ${index}: ref differs from the sealed ledger`);
    }
  }
  if (problems.length > 0) return check("winners", false, joinProblems(problems));
  return check("winners", true, `${outcome.winners.length} winners match`);
}

function alternatesCheck(p, outcome, refOf) {
  const problems = [];
  const given = p.pickedAlternates;
  if (given.length !== outcome.alternates.length) {
    problems.push(
      `the bundle lists ${given.length} alternates, the algorithm gives ${outcome.alternates.length}`,
    );
  }
  const n = Math.min(given.length, outcome.alternates.length);
  for (let at = 0; at < n; at++) {
    const { index, ref } = given[at];
    const want = outcome.alternates[at];
    if (!same(index, want)) {
      problems.push(
        `alternate ${at}: bundle says entry ${index}, the algorithm gives entry ${want}`,
      );
    } else if (ref !== refOf(want)) {
      problems.push(`alternate ${at}: entry ${index}: ref differs from the sealed ledger`);
    }
  }
  if (problems.length > 0) return check("alternates", false, joinProblems(problems));
  return check("alternates", true, `${outcome.alternates.length} alternates match`);
}

function unawardedCheck(p, outcome) {
  const want = outcome.unawarded;
  if (p.unawarded.length === want.length && p.unawarded.every((name, at) => name === want[at])) {
    return check("unawarded", true, `${p.unawarded.length} slots unawarded`);
  }
  return check(
    "unawarded",
    false,
    `the bundle says ${pyRepr(p.unawarded)} but the algorithm gives ${pyRepr(want)}`,
  );
}

/** The winners, alternates and unawarded checks against the recomputed outcome. */
export function resultChecks(p, outcome, refOf) {
  return [
    winnersCheck(p, outcome, refOf),
    alternatesCheck(p, outcome, refOf),
    unawardedCheck(p, outcome),
  ];
}
