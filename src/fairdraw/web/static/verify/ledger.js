// The entries file, one chunk of lines at a time: each line checked against the format
// of its draw's algorithm and kind, each leaf hashed, and the chunk's Merkle subtree
// built (docs/fairness.md, "The ledger and its Merkle tree"). Runs in ledger-worker.js.

import { decodeUtf8, notUtf8 } from "./bytes.js";
import { sha256 } from "./hashing.js";
import { pyRepr } from "./report.js";

/** Leaves per chunk: a power of two, so that every full chunk is a complete subtree. */
export const CHUNK_LEAVES = 1 << 16;
// Digests in flight at once: enough to keep WebCrypto busy, few enough to stay small.
const BATCH = 2048;

const TICKET = "(?:[1-9][0-9]{0,8}|1000000000)";
const RULES = {
  "fairdraw/1": {
    entry: { pattern: /^[0-9a-f]{32}$/, text: "32 lowercase hex characters" },
    raffle: {
      pattern: new RegExp(`^${TICKET}$`),
      text: "a ticket number from 1 to 1000000000 without leading zeros",
    },
  },
  "fairdraw/2": {
    entry: { pattern: /^[0-9a-f]{64}$/, text: "64 lowercase hex characters" },
    // At most ten digits; the bound itself (draw.ticket_count) is the entry_count check's.
    raffle: {
      pattern: /^[1-9][0-9]{0,9}:[0-9a-f]{64}$/,
      text: "a ticket number, ':' and 64 lowercase hex characters",
    },
  },
};

/** What a public reference of a draw of `algorithm` and `kind` looks like: {pattern, text}. */
export function refRule(algorithm, kind) {
  const rules = RULES[algorithm];
  return kind === "raffle" ? rules.raffle : rules.entry;
}

function lineProblem(index, line, rule) {
  const tab = line.indexOf("\t");
  if (line.includes("\r")) return "carriage return found (lines must end with LF only)";
  if (tab < 0) return `expected '<index><TAB><ref>', got ${pyRepr(line)}`;
  const given = line.slice(0, tab);
  if (given !== String(index)) return `the index must be ${index}, got ${pyRepr(given)}`;
  return `the ref must be ${rule.text}, got ${pyRepr(line.slice(tab + 1))}`;
}

/**
 * Check and hash one chunk: `bytes`, from byte `offset` of the file on, holds lines
 * `first`, `first + 1`, ..., each ending in LF except perhaps the file's last. Returns
 * {count, root, problem, tickets}: `root` the Merkle tree hash over the chunk's leaves
 * (null for no lines), `problem` null or {line, message} for the first malformed line
 * (line 0 when the bytes are not UTF-8), `tickets` each line's ticket number for a
 * fairdraw/2 raffle (else null).
 */
export async function hashChunk({ bytes, first, offset, algorithm, kind }) {
  const text = decodeUtf8(bytes);
  if (text === null) {
    const message = notUtf8(bytes, "the entries file", offset);
    return { count: 0, root: null, problem: { line: 0, message }, tickets: null };
  }
  const rule = refRule(algorithm, kind);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const tickets =
    kind === "raffle" && algorithm === "fairdraw/2" ? new Float64Array(lines.length) : null;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    const tab = line.indexOf("\t");
    const index = first + k;
    if (
      tab < 0 ||
      line.slice(0, tab) !== String(index) ||
      !rule.pattern.test(line.slice(tab + 1))
    ) {
      const message = `entries file line ${index + 1}: ${lineProblem(index, line, rule)}`;
      return {
        count: lines.length,
        root: null,
        problem: { line: index + 1, message },
        tickets: null,
      };
    }
    if (tickets !== null) tickets[k] = parseInt(line.slice(tab + 1), 10);
  }
  return { count: lines.length, root: await subtreeRoot(bytes, lines), problem: null, tickets };
}

/** The Merkle tree hash over the leaves sha256(0x00 || line) of the (ASCII) lines. */
async function subtreeRoot(bytes, lines) {
  if (lines.length === 0) return null;
  let level = [];
  let at = 0;
  for (let k = 0; k < lines.length; k += BATCH) {
    const batch = [];
    for (const line of lines.slice(k, k + BATCH)) {
      const leaf = new Uint8Array(line.length + 1);
      leaf.set(bytes.subarray(at, at + line.length), 1);
      at += line.length + 1;
      batch.push(sha256(leaf));
    }
    level.push(...(await Promise.all(batch)));
  }
  while (level.length > 1) {
    const next = [];
    for (let k = 0; k + 1 < level.length; k += BATCH * 2) {
      const batch = [];
      for (let p = k; p + 1 < level.length && p < k + BATCH * 2; p += 2) {
        batch.push(nodeHash(level[p], level[p + 1]));
      }
      next.push(...(await Promise.all(batch)));
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    level = next;
  }
  return level[0];
}

/** sha256(0x01 || left || right): an interior node of a Merkle tree. */
export function nodeHash(left, right) {
  const message = new Uint8Array(65);
  message[0] = 1;
  message.set(left, 1);
  message.set(right, 33);
  return sha256(message);
}
