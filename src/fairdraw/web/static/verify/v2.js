// Verifying a fairdraw/2 bundle (docs/fairness-v2.md, "Verifying a fairdraw/2 bundle"):
// the same checks, in the same order and with the same names, as
// fairdraw.domain.verification.

import { isoSeconds, QUICKNET, roundProblem, roundTime } from "./beacon.js";
import { concat, fromHex, label, sameBytes, toHex, u64be, utf8 } from "./bytes.js";
import { parseCommon } from "./bundle.js";
import {
  commitmentCheck,
  entryCountCheck,
  RESULT_CHECKS,
  resultChecks,
  rootCheck,
  slotsCheck,
} from "./checks.js";
import { readEntries } from "./entries.js";
import { sha256 } from "./hashing.js";
import { canonicalJson, compareCodePoints, isInteger } from "./json.js";
import { check, FormatError, joinProblems, notChecked, pyRepr, pyStr, report } from "./report.js";
import { selectWinners } from "./selection.js";
import { keyId, verifyStatement } from "./signing.js";
import {
  count,
  drawKind,
  epochMs,
  exactFields,
  field,
  hex,
  ISO_MS,
  ISO_SECONDS,
  object,
  time,
} from "./shapes.js";
import { logLeafHash, verifyInclusion } from "./transparency.js";

export const ALGORITHM = "fairdraw/2";
const BUNDLE_FIELDS = [
  "algorithm",
  "draw",
  "seal",
  "commitment",
  "seed",
  "winners",
  "alternates",
  "unawarded",
  "beacon",
  "signer",
  "log",
];
const DRAW_FIELDS = [
  "id",
  "kind",
  "title",
  "prizes",
  "alternates",
  "one_prize_per_entrant",
  "opened_at",
  "deadline",
  "ticket_count",
];
const BEACON_FIELDS = [
  "chain_hash",
  "public_key",
  "scheme",
  "period",
  "genesis_time",
  "round",
  "round_time",
  "signature",
  "randomness",
];
const TREE_HEAD_FIELDS = ["type", "tree_size", "root_hash", "timestamp", "key_id"];
const DRAW_LEAF_FIELDS = ["bundle_hash", "draw_id", "time", "type"]; // sorted
const MAX_TICKETS = 1_000_000_000;
const MS_LIKE = "2026-12-06T21:00:00.000Z";
const NO_BEACON =
  "no beacon: the operator's seed alone decides the winners, so this draw trusts its " +
  "operator (who could have known the seed before the seal)";

/** The check names of a fairdraw/2 verification, in order. */
export const CHECKS = [
  "format",
  "entry_count",
  "merkle_root",
  "commitment",
  "slots",
  "beacon",
  "openings",
  ...RESULT_CHECKS,
  "log",
];

/** The format check's failure, every later check blocked by it. */
export function formatFailure(detail, algorithm = null) {
  return report([check("format", false, detail), ...notChecked(CHECKS.slice(1), "format")], {
    algorithm,
  });
}

/**
 * Throw FormatError unless `bytes` are exactly canonical(value), optionally followed by
 * LF; `firstFloat` is the first non-integer number in them, as written, or null.
 */
function requireCanonical(bytes, value, firstFloat) {
  if (firstFloat !== null) {
    throw new FormatError(`the bundle is not canonical JSON: ${firstFloat} is not an integer`);
  }
  const text = canonicalJson(value);
  if (!text.isWellFormed()) {
    throw new FormatError(
      "the bundle is not canonical JSON: a \\u escape encodes a lone surrogate",
    );
  }
  const canonical = utf8(text);
  const body = bytes[bytes.length - 1] === 0x0a ? bytes.subarray(0, bytes.length - 1) : bytes;
  if (sameBytes(body, canonical)) return;
  let at = 0;
  while (at < body.length && at < canonical.length && body[at] === canonical[at]) at++;
  const excerpt = (data) => {
    const piece = data.subarray(at, at + 12);
    return piece.length > 0 ? pyRepr(new TextDecoder().decode(piece)) : "the end";
  };
  throw new FormatError(
    `the bundle is not canonical JSON: byte ${at} is ${excerpt(body)}, canonical JSON has ${excerpt(canonical)}`,
  );
}

function ticketCount(draw, kind) {
  if (kind !== "raffle") {
    if (draw.ticket_count !== null) {
      throw new FormatError("draw.ticket_count must be null for a draw that is no raffle");
    }
    return null;
  }
  const value = draw.ticket_count;
  if (isInteger(value) && value >= 1 && value <= MAX_TICKETS) return Number(value);
  throw new FormatError(
    `draw.ticket_count must be an integer from 1 to ${MAX_TICKETS} for a raffle`,
  );
}

function parseBeacon(value) {
  if (value === null) return null;
  exactFields(value, BEACON_FIELDS, "beacon");
  return {
    chainHash: hex(value, "chain_hash", "beacon", 32),
    publicKey: hex(value, "public_key", "beacon", 96),
    scheme: field(value, "scheme", "string", "beacon"),
    period: count(value, "period", "beacon", 1),
    genesisTime: count(value, "genesis_time", "beacon"),
    round: count(value, "round", "beacon", 1),
    roundTime: time(value, "round_time", "beacon", ISO_SECONDS, "2026-12-06T22:00:03Z"),
    signature: hex(value, "signature", "beacon", 48),
    randomness: hex(value, "randomness", "beacon", 32),
  };
}

function parseLog(log) {
  exactFields(log, ["leaf_index", "entry", "path", "tree_head"], "log");
  // Any log leaf is an object; whether it is this draw's draw leaf is the log check's.
  const entry = object(log, "entry", "log");
  const path = field(log, "path", "list", "log");
  if (!path.every((p) => typeof p === "string" && /^[0-9a-f]{64}$/.test(p))) {
    throw new FormatError("log.path must be a list of 64 lowercase hex characters each");
  }
  const head = object(log, "tree_head", "log");
  exactFields(head, ["statement", "signature"], "log.tree_head");
  const statement = object(head, "statement", "log.tree_head");
  const where = "log.tree_head.statement";
  exactFields(statement, TREE_HEAD_FIELDS, where);
  field(statement, "type", "string", where);
  count(statement, "timestamp", where);
  hex(statement, "key_id", where, 32);
  hex(head, "signature", "log.tree_head", 64);
  return {
    leafIndex: count(log, "leaf_index", "log"),
    entry,
    path: path.map(fromHex),
    treeHead: head,
    treeSize: count(statement, "tree_size", where),
    rootHash: hex(statement, "root_hash", where, 32),
  };
}

/** Everything before the entries file, shape and types checked (throws FormatError). */
function parseBundle(bytes, bundle, firstFloat) {
  requireCanonical(bytes, bundle, firstFloat);
  exactFields(bundle, BUNDLE_FIELDS, "bundle");
  const draw = object(bundle, "draw", "bundle");
  exactFields(draw, DRAW_FIELDS, "draw");
  const drawId = field(draw, "id", "string", "draw");
  field(draw, "title", "string", "draw");
  const kind = drawKind(draw);
  if (field(draw, "one_prize_per_entrant", "bool", "draw")) {
    throw new FormatError("draw.one_prize_per_entrant must be false in fairdraw/2");
  }
  time(draw, "opened_at", "draw", ISO_MS, MS_LIKE);
  if (draw.deadline !== null) time(draw, "deadline", "draw", ISO_MS, MS_LIKE);
  const tickets = ticketCount(draw, kind);
  const seal = object(bundle, "seal", "bundle");
  exactFields(seal, ["root", "entry_count", "sealed_at", "slots"], "seal");
  const sealedAt = time(seal, "sealed_at", "seal", ISO_MS, MS_LIKE);
  const beacon = parseBeacon(bundle.beacon);
  const signer = object(bundle, "signer", "bundle");
  exactFields(signer, ["algorithm", "public_key", "key_id"], "signer");
  if (signer.algorithm !== "ed25519") throw new FormatError("signer.algorithm must be 'ed25519'");
  const log = parseLog(object(bundle, "log", "bundle"));
  const p = parseCommon(bundle, kind, ALGORITHM);
  const v2 = {
    drawId,
    ticketCount: tickets,
    sealedAt,
    sealedMs: epochMs(ISO_MS.exec(sealedAt)),
    beacon,
    log,
  };
  return { p, v2, signer };
}

/** The signer's fields, checked after the entries file as the Python verifier does. */
function parseSigner(signer) {
  return {
    signerKey: hex(signer, "public_key", "signer", 32),
    signerKeyId: hex(signer, "key_id", "signer", 32),
  };
}

async function beaconProblem(beacon, v2, chains) {
  const chain = chains.find((c) => c.chainHash === beacon.chainHash);
  if (chain === undefined) {
    const pinned = chains.map((c) => c.chainHash).join(", ") || "none";
    return `chain ${beacon.chainHash} is not pinned by this verifier (pinned: ${pinned})`;
  }
  const stated = [
    ["public key", beacon.publicKey, chain.publicKey],
    ["scheme", beacon.scheme, chain.scheme],
    ["period", beacon.period, chain.period],
    ["genesis_time", beacon.genesisTime, chain.genesisTime],
  ];
  for (const [what, said, pinned] of stated) {
    if (String(said) !== String(pinned)) {
      return `the bundle gives chain ${chain.chainHash} the ${what} ${said}, but it is ${pinned}`;
    }
  }
  if (BigInt(beacon.round) > (1n << 64n) - 1n) {
    return `a round is a whole number from 1 to 2^64 - 1, got ${beacon.round}`;
  }
  const published = roundTime(chain, beacon.round);
  const publishedIso = isoSeconds(published);
  if (beacon.roundTime !== publishedIso) {
    return `round ${beacon.round} is at ${publishedIso}, but the bundle says ${beacon.roundTime}`;
  }
  if (published * 1000n <= BigInt(v2.sealedMs)) {
    return (
      `round ${beacon.round} (${beacon.roundTime}) is not after the seal (${v2.sealedAt}): ` +
      "its randomness may have been known before the entries were fixed"
    );
  }
  const invalid = await roundProblem(chain, beacon.round, beacon.signature);
  if (invalid !== null) return `the signature of round ${beacon.round} is not valid: ${invalid}`;
  const randomness = toHex(await sha256(fromHex(beacon.signature)));
  if (randomness !== beacon.randomness) {
    return `the randomness is ${beacon.randomness} but sha256(signature) is ${randomness}`;
  }
  return null;
}

async function beaconCheck(v2, chains) {
  const beacon = v2.beacon;
  if (beacon === null) return check("beacon", true, NO_BEACON);
  const problem = await beaconProblem(beacon, v2, chains);
  if (problem !== null) return check("beacon", false, problem);
  const name = beacon.chainHash === QUICKNET.chainHash ? "quicknet" : "chain";
  return check(
    "beacon",
    true,
    `${name} ${beacon.chainHash} round ${beacon.round} at ${beacon.roundTime}, after the seal; ` +
      "its signature is valid and gives the randomness",
  );
}

/** ref = hex(sha256(label("fairdraw/2 entry") || nonce || UTF-8(identity))). */
async function entryRef(opening) {
  return toHex(
    await sha256(concat(label("fairdraw/2 entry"), fromHex(opening.nonce), utf8(opening.identity))),
  );
}

async function openingsCheck(kind, picks) {
  const problems = [];
  for (const pick of picks) {
    const named = `${pick.label} (entry ${pick.index})`;
    if (kind === "raffle") {
      if (pick.opening !== null) {
        problems.push(`${named}: a raffle pick has no opening in the bundle`);
      }
    } else if (pick.opening === null) {
      problems.push(`${named}: the opening is missing`);
    } else {
      const ref = await entryRef(pick.opening);
      if (ref !== pick.ref) {
        problems.push(
          `${named}: the opening of ${pyRepr(pick.opening.identity)} gives ref ${ref}, not ${pick.ref}`,
        );
      }
    }
  }
  if (problems.length > 0) return check("openings", false, joinProblems(problems));
  if (kind === "raffle") {
    return check(
      "openings",
      true,
      `${picks.length} raffle picks, each opened by its ticket's code`,
    );
  }
  return check("openings", true, `${picks.length} openings match their refs`);
}

async function logProblem(v2, signer, coreHash) {
  const { log } = v2;
  const computedId = await keyId(signer.signerKey);
  if (computedId !== signer.signerKeyId) {
    return `signer.key_id is ${signer.signerKeyId} but sha256(public_key) is ${computedId}`;
  }
  const { entry } = log;
  if (!Object.hasOwn(entry, "type")) {
    return "log.entry has no type; the draw's leaf is of type 'draw'";
  }
  if (entry.type !== "draw") return `log.entry is a ${pyRepr(entry.type)} leaf, not a 'draw' leaf`;
  const fields = Object.keys(entry).sort(compareCodePoints);
  if (fields.join() !== DRAW_LEAF_FIELDS.join() || fields.length !== DRAW_LEAF_FIELDS.length) {
    return `log.entry has the fields ${fields.join(", ")}; a draw leaf has ${DRAW_LEAF_FIELDS.join(", ")}`;
  }
  if (entry.draw_id !== v2.drawId) {
    return `log.entry is the draw leaf of ${pyRepr(entry.draw_id)}, not of ${pyRepr(v2.drawId)}`;
  }
  if (entry.bundle_hash !== coreHash) {
    return `log.entry.bundle_hash is ${pyStr(entry.bundle_hash)} but the bundle's core hashes to ${coreHash}`;
  }
  const statement = log.treeHead.statement;
  if (statement.type !== "tree-head") {
    return `log.tree_head is a ${pyRepr(statement.type)} statement, not a 'tree-head'`;
  }
  if (statement.key_id !== signer.signerKeyId) {
    return `the tree head names key ${statement.key_id}, but the bundle's signer is ${signer.signerKeyId}`;
  }
  const leaf = await logLeafHash(entry);
  if (
    !(await verifyInclusion(leaf, log.leafIndex, log.treeSize, log.path, fromHex(log.rootHash)))
  ) {
    return (
      `the path does not prove leaf ${log.leafIndex} (hash ${toHex(leaf)}) in the tree ` +
      `of ${log.treeSize} leaves with root ${log.rootHash}`
    );
  }
  if (!(await verifyStatement(log.treeHead, signer.signerKey))) {
    return "the tree head's signature is not valid under signer.public_key";
  }
  return null;
}

async function logCheck(v2, signer, coreHash) {
  const problem = await logProblem(v2, signer, coreHash);
  if (problem !== null) return check("log", false, problem);
  return check(
    "log",
    true,
    `the draw leaf ${v2.log.leafIndex} is in the log's tree of ${v2.log.treeSize} leaves, ` +
      `whose head is signed by key ${signer.signerKeyId}`,
  );
}

/** The bundle without its log: what the draw's log leaf commits to. */
function core(bundle) {
  const out = Object.create(null);
  for (const [name, value] of Object.entries(bundle)) if (name !== "log") out[name] = value;
  return out;
}

/**
 * Verify a fairdraw/2 bundle (its bytes and their parse, whose first non-integer number
 * is `firstFloat`) against the bytes of its entries file; `chains` are the pinned beacon
 * chains.
 */
export async function verifyV2(
  bytes,
  bundle,
  entriesBytes,
  { chains, firstFloat = null, onProgress } = {},
) {
  let parsed;
  let signer;
  let entries;
  try {
    parsed = parseBundle(bytes, bundle, firstFloat);
    entries = await readEntries(entriesBytes, {
      algorithm: ALGORITHM,
      kind: parsed.p.kind,
      onProgress,
    });
    if (entries.problem !== null) throw new FormatError(entries.problem);
    signer = parseSigner(parsed.signer);
  } catch (error) {
    if (error instanceof FormatError) return formatFailure(error.message, ALGORITHM);
    throw error;
  }
  const { p, v2 } = parsed;
  const checks = [check("format", true, `${ALGORITHM} bundle and ${entries.count} entries`)];
  checks.push(
    entryCountCheck(p, entries, v2.ticketCount),
    rootCheck(p, entries),
    await commitmentCheck(p),
    slotsCheck(p, true),
    await beaconCheck(v2, chains),
    await openingsCheck(p.kind, p.picks),
  );
  const blocker = checks.find((c) => !c.ok);
  if (blocker) {
    checks.push(...notChecked(RESULT_CHECKS, blocker.name));
  } else {
    const randomness = v2.beacon === null ? new Uint8Array(0) : fromHex(v2.beacon.randomness);
    const key = await sha256(
      concat(label(ALGORITHM), fromHex(p.root), u64be(p.entryCount), randomness, fromHex(p.seed)),
    );
    const outcome = await selectWinners(key, entries.count, p.prizes, p.alternates);
    checks.push(...resultChecks(p, outcome, entries.ref));
  }
  const coreHash = toHex(await sha256(utf8(canonicalJson(core(bundle)))));
  checks.push(await logCheck(v2, signer, coreHash));
  return report(checks, { algorithm: ALGORITHM, trustsOperator: v2.beacon === null });
}
