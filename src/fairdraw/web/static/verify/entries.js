// Reading an entries file on the page: split into chunks of CHUNK_LEAVES lines, checked
// and hashed by a pool of workers (ledger-worker.js), the chunk roots joined into the
// ledger's Merkle root as RFC 6962 nests them.

import { sha256 } from "./hashing.js";
import { CHUNK_LEAVES, nodeHash } from "./ledger.js";

const LF = 0x0a;
const CHUNK_HEIGHT = Math.log2(CHUNK_LEAVES);

let pool = null;

/** The workers, started on first use and kept for later verifications. */
function workers() {
  if (pool === null) {
    const size = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));
    pool = Array.from({ length: size }, () => new LedgerWorker());
  }
  return pool;
}

class LedgerWorker {
  constructor() {
    this.worker = new Worker(new URL("./ledger-worker.js", import.meta.url), { type: "module" });
    this.pending = new Map();
    this.nextId = 0;
    this.worker.onmessage = ({ data }) => {
      const { resolve, reject } = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.error !== undefined) reject(new Error(data.error));
      else resolve(data.result);
    };
    this.worker.onerror = (event) => {
      event.preventDefault();
      for (const { reject } of this.pending.values())
        reject(new Error(event.message || "worker failed"));
      this.pending.clear();
    };
  }

  run(job) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...job, id }, [job.bytes.buffer]);
    });
  }
}

/** Let the page paint and take input between slices of work. */
function yieldToPage() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Where each line starts, and the line count: LF-separated lines, the text after the last
 * LF being a line when it is not empty. `starts[count]` is the end of the bytes.
 */
async function lineStarts(bytes) {
  let starts = new Float64Array(1024);
  let count = 0;
  for (let from = 0; from < bytes.length; count++) {
    if (count + 1 >= starts.length) {
      const grown = new Float64Array(starts.length * 2);
      grown.set(starts);
      starts = grown;
    }
    starts[count] = from;
    const end = bytes.indexOf(LF, from);
    from = end < 0 ? bytes.length : end + 1;
    if (count % CHUNK_LEAVES === 0) await yieldToPage();
  }
  starts[count] = bytes.length;
  const unterminated = bytes.length > 0 && bytes[bytes.length - 1] !== LF;
  return { starts: starts.subarray(0, count + 1), count, unterminated };
}

/** The ledger's root from the roots of its chunks (docs/fairness.md, bottom-up form). */
async function joinChunkRoots(roots, count) {
  if (count === 0) return sha256(new Uint8Array(0));
  const stack = []; // [height, hash] of complete subtrees, strictly decreasing heights
  let tail = null;
  for (let c = 0; c < roots.length; c++) {
    let root = roots[c];
    if (count - c * CHUNK_LEAVES < CHUNK_LEAVES) {
      tail = root; // only the last chunk can be short
      break;
    }
    let height = CHUNK_HEIGHT;
    while (stack.length > 0 && stack[stack.length - 1][0] === height) {
      root = await nodeHash(stack.pop()[1], root);
      height++;
    }
    stack.push([height, root]);
  }
  let acc = tail;
  for (let k = stack.length - 1; k >= 0; k--) {
    acc = acc === null ? stack[k][1] : await nodeHash(stack[k][1], acc);
  }
  return acc;
}

/**
 * Check and hash a whole entries file. Returns {count, root, problem, ref, tickets}:
 * `problem` is null or the first malformed line's description (then `root` is null);
 * `ref(i)` reads entry i's reference; `tickets` holds a fairdraw/2 raffle's ticket numbers.
 * `onProgress(done, total)` is told as chunks complete.
 */
export async function readEntries(bytes, { algorithm, kind, onProgress }) {
  const strict = algorithm === "fairdraw/2"; // every line ends in LF, no byte order mark
  const { starts, count, unterminated } = await lineStarts(bytes);
  const result = { count, root: null, problem: null, tickets: null, ref: null };
  if (strict && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    result.problem = "the entries file starts with a byte order mark (UTF-8 without BOM)";
    return result;
  }
  const chunks = [];
  for (let first = 0; first < count; first += CHUNK_LEAVES) {
    const last = Math.min(first + CHUNK_LEAVES, count);
    chunks.push({ first, from: starts[first], to: starts[last] });
  }
  const pool = workers();
  const outcomes = new Array(chunks.length);
  let done = 0;
  let next = 0;
  onProgress?.(0, count);
  async function drain(worker) {
    while (next < chunks.length) {
      const c = next++;
      const { first, from, to } = chunks[c];
      const job = { bytes: bytes.slice(from, to), first, offset: from, algorithm, kind };
      outcomes[c] = await worker.run(job);
      done += outcomes[c].count;
      onProgress?.(done, count);
    }
  }
  await Promise.all(pool.map(drain));
  const problems = outcomes.map((o) => o.problem).filter(Boolean);
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    result.problem = problems[0].message;
    return result;
  }
  if (strict && unterminated) {
    result.problem = `entries file line ${count}: no LF at the end`;
    return result;
  }
  result.root = await joinChunkRoots(
    outcomes.map((o) => o.root),
    count,
  );
  if (kind === "raffle" && strict) {
    result.tickets = new Float64Array(count);
    outcomes.forEach((o, c) => result.tickets.set(o.tickets, c * CHUNK_LEAVES));
  }
  const decoder = new TextDecoder();
  result.ref = (i) => {
    const line = decoder.decode(bytes.subarray(starts[i], starts[i + 1]));
    return line.slice(line.indexOf("\t") + 1).replace(/\n$/, "");
  };
  return result;
}
