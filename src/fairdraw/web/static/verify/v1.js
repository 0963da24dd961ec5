// Verifying a fairdraw/1 bundle (docs/fairness.md, "Verifying a draw"): the same checks,
// in the same order and with the same names, as fairdraw.domain.verification.

import { concat, decodeUtf8, fromHex, notUtf8, utf8 } from "./bytes.js";
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
import { check, FormatError, notChecked, report } from "./report.js";
import { selectWinners } from "./selection.js";
import { drawKind, exactFields, field, ISO_V1, object, time } from "./shapes.js";

export const ALGORITHM = "fairdraw/1";
const BUNDLE_FIELDS = [
  "algorithm",
  "draw",
  "seal",
  "commitment",
  "seed",
  "winners",
  "alternates",
  "unawarded",
];
const DRAW_FIELDS = ["id", "kind", "title", "prizes", "alternates", "one_prize_per_entrant"];

/** The check names of a fairdraw/1 verification, in order. */
export const CHECKS = [
  "format",
  "entry_count",
  "merkle_root",
  "commitment",
  "slots",
  ...RESULT_CHECKS,
];

function parseBundle(bundle) {
  exactFields(bundle, BUNDLE_FIELDS, "bundle");
  const draw = object(bundle, "draw", "bundle");
  const missing = DRAW_FIELDS.filter((name) => !Object.hasOwn(draw, name));
  if (missing.length > 0) throw new FormatError(`draw: missing ${missing.join(", ")}`);
  field(draw, "id", "string", "draw");
  field(draw, "title", "string", "draw");
  const kind = drawKind(draw);
  const seal = object(bundle, "seal", "bundle");
  exactFields(seal, ["root", "entry_count", "sealed_at", "slots"], "seal");
  time(seal, "sealed_at", "seal", ISO_V1, "2026-01-02T03:04:05Z");
  return parseCommon(bundle, kind, ALGORITHM);
}

/** The format check's failure, every later check blocked by it. */
export function formatFailure(detail) {
  return report([check("format", false, detail), ...notChecked(CHECKS.slice(1), "format")], {
    algorithm: ALGORITHM,
  });
}

/** Verify a parsed fairdraw/1 bundle against the bytes of its entries file. */
export async function verifyV1(bundle, entriesBytes, { onProgress } = {}) {
  let p;
  try {
    p = parseBundle(bundle);
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    // The entries file is read as text first: its bytes' problem is the one to name.
    const utf8Problem =
      decodeUtf8(entriesBytes) === null ? notUtf8(entriesBytes, "the entries file") : null;
    return formatFailure(utf8Problem ?? error.message);
  }
  const entries = await readEntries(entriesBytes, {
    algorithm: ALGORITHM,
    kind: p.kind,
    onProgress,
  });
  if (entries.problem !== null) return formatFailure(entries.problem);
  const checks = [check("format", true, `${ALGORITHM} bundle and ${entries.count} entries`)];
  checks.push(
    entryCountCheck(p, entries),
    rootCheck(p, entries),
    await commitmentCheck(p),
    slotsCheck(p, false),
  );
  const blocker = checks.find((c) => !c.ok);
  if (blocker) {
    checks.push(...notChecked(RESULT_CHECKS, blocker.name));
  } else {
    const key = await sha256(concat(utf8(ALGORITHM), fromHex(p.root), fromHex(p.seed)));
    const owners = p.onePerEntrant ? entries.ref : null;
    const outcome = await selectWinners(key, entries.count, p.prizes, p.alternates, owners);
    checks.push(...resultChecks(p, outcome, entries.ref));
  }
  return report(checks, { algorithm: ALGORITHM, trustsOperator: true });
}
