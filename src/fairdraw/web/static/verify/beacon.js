// The drand beacon of a fairdraw/2 draw (docs/fairness-v2.md, "The beacon"): pinned
// chains, round times, and the BLS signature of a round, checked with @noble/curves.

import { fromHex, toHex, u64be } from "./bytes.js";
import { sha256 } from "./hashing.js";

const SCHEME = "bls-unchained-g1-rfc9380";
const DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";
const MAX_ROUND = (1n << 64n) - 1n;

/** drand's quicknet, the chain every verifier knows. */
export const QUICKNET = Object.freeze({
  chainHash: "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
  publicKey:
    "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c" +
    "8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb" +
    "5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
  period: 3,
  genesisTime: 1692803367,
  scheme: SCHEME,
});

const FIELD_NAMES = {
  chainHash: ["chain_hash", "hash"],
  publicKey: ["public_key"],
  period: ["period"],
  genesisTime: ["genesis_time"],
  scheme: ["scheme", "schemeID"],
};

/**
 * A chain from parsed JSON: fairdraw's form (chain_hash, public_key, period,
 * genesis_time, scheme) or a drand relay's /info answer (hash, schemeID). Throws an
 * Error saying what is wrong.
 */
export function chainFromJson(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("chain info is a JSON object");
  }
  const chain = {};
  for (const [name, names] of Object.entries(FIELD_NAMES)) {
    const present = names.filter((n) => Object.hasOwn(value, n));
    if (present.length === 0) throw new Error(`chain info has no ${names.join(" or ")}`);
    if (present.some((n) => value[n] !== value[present[0]])) {
      throw new Error(`chain info: ${present.join(" and ")} differ`);
    }
    chain[name] = value[present[0]];
  }
  if (typeof chain.chainHash !== "string" || !/^[0-9a-f]{64}$/.test(chain.chainHash)) {
    throw new Error("chain_hash: 64 lowercase hex digits");
  }
  if (typeof chain.publicKey !== "string" || !/^[0-9a-f]{192}$/.test(chain.publicKey)) {
    throw new Error("public_key: 192 lowercase hex digits (96 bytes)");
  }
  if (!Number.isSafeInteger(chain.period) || chain.period < 1) {
    throw new Error("period: whole seconds ≥ 1");
  }
  if (!Number.isSafeInteger(chain.genesisTime) || chain.genesisTime < 0) {
    throw new Error("genesis_time: Unix seconds ≥ 0");
  }
  if (chain.scheme !== SCHEME) {
    throw new Error(`unsupported beacon scheme: fairdraw verifies ${SCHEME}`);
  }
  return Object.freeze(chain);
}

/** When round `round` is published: genesis_time + (round − 1) · period, Unix seconds (BigInt). */
export function roundTime(chain, round) {
  return BigInt(chain.genesisTime) + (BigInt(round) - 1n) * BigInt(chain.period);
}

/** Unix seconds as ISO-8601 UTC to the second ("2026-12-06T22:00:03Z"), or null out of range. */
export function isoSeconds(seconds) {
  const ms = Number(seconds) * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Whether `round` is a round number a chain can have: 1 to 2^64 − 1. */
function isRoundNumber(round) {
  return (
    (typeof round === "number" || typeof round === "bigint") &&
    BigInt(round) >= 1n &&
    BigInt(round) <= MAX_ROUND
  );
}

let curves = null;

/**
 * Why `signatureHex` (a compressed G1 point) is not the chain's BLS signature of round
 * `round`, or null when it is: a valid point of the subgroup, not the identity,
 * canonically encoded, with e(sig, g2) = e(H(sha256(u64be(round))), pk).
 */
export async function roundProblem(chain, round, signatureHex) {
  if (!isRoundNumber(round)) return `a round is a whole number from 1 to 2^64 - 1, got ${round}`;
  curves ??= await import("../vendor/noble-curves/bls12-381.js");
  const { bls12_381: bls } = curves;
  const scheme = bls.shortSignatures;
  const message = await sha256(u64be(round));
  let signature;
  try {
    signature = scheme.Signature.fromBytes(fromHex(signatureHex));
  } catch (error) {
    return `round ${round}: the signature is not a point of the G1 subgroup: ${error.message}`;
  }
  if (signature.is0() || toHex(scheme.Signature.toBytes(signature)) !== signatureHex) {
    return `round ${round}: the signature is the identity or not canonically encoded`;
  }
  let valid = false;
  try {
    valid = scheme.verify(
      signature,
      scheme.hash(message, DST),
      bls.G2.Point.fromBytes(fromHex(chain.publicKey)),
    );
  } catch {
    valid = false; // a chain key that is no point of G2 verifies nothing
  }
  if (!valid) {
    return `round ${round}: the signature does not verify under the public key of chain ${chain.chainHash}`;
  }
  return null;
}
