// The public draw log (docs/fairness-v2.md, "The draw log"): leaf hashes and RFC 9162
// inclusion proofs.

import { concat, sameBytes, utf8 } from "./bytes.js";
import { sha256 } from "./hashing.js";
import { canonicalJson } from "./json.js";
import { nodeHash } from "./ledger.js";

/** sha256(0x00 || canonical(entry)): the leaf hash of one log entry. */
export function logLeafHash(entry) {
  return sha256(concat(new Uint8Array([0]), utf8(canonicalJson(entry))));
}

/**
 * Whether `path` (32-byte hashes, leaf level first) proves `leafHash` at `index` in the
 * tree of `size` leaves whose hash is `root` (RFC 9162, section 2.1.3.2).
 */
export async function verifyInclusion(leafHash, index, size, path, root) {
  if (!(index >= 0 && index < size)) return false;
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0n) return false;
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      while (fn !== 0n && !(fn & 1n)) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && sameBytes(r, root);
}
