// fairdraw/2 signed statements (docs/fairness-v2.md, "Signatures"): Ed25519 over
// label("fairdraw/2 " + type) || canonical(statement), checked with WebCrypto's Ed25519,
// or with @noble/curves where the browser lacks it.

import { concat, fromHex, label, toHex, utf8 } from "./bytes.js";
import { sha256 } from "./hashing.js";
import { canonicalJson, isObject } from "./json.js";

const TYPE = /^[\x21-\x7e]+$/;
let nobleEd25519 = null;

/** A public key's id: hex of sha256 of its 32 raw bytes. */
export async function keyId(publicKeyHex) {
  return toHex(await sha256(fromHex(publicKeyHex)));
}

/** The bytes a statement's signature covers, or null when it has no printable-ASCII type. */
function signedMessage(statement) {
  if (!isObject(statement) || typeof statement.type !== "string" || !TYPE.test(statement.type)) {
    return null;
  }
  return concat(label(`fairdraw/2 ${statement.type}`), utf8(canonicalJson(statement)));
}

async function webCryptoVerify(publicKey, signature, message) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  let key;
  try {
    key = await subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    if (error.name === "NotSupportedError") return null;
    return false; // not a public key
  }
  try {
    return await subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

/** Whether `signatureHex` is a valid Ed25519 signature of `message` by `publicKeyHex`. */
async function verifyEd25519(publicKeyHex, signatureHex, message) {
  const publicKey = fromHex(publicKeyHex);
  const signature = fromHex(signatureHex);
  const verdict = await webCryptoVerify(publicKey, signature, message);
  if (verdict !== null) return verdict;
  nobleEd25519 ??= (await import("../vendor/noble-curves/ed25519.js")).ed25519;
  try {
    return nobleEd25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Whether `signed` ({statement, signature}) carries a valid signature by `publicKeyHex`. */
export async function verifyStatement(signed, publicKeyHex) {
  if (!isObject(signed) || typeof signed.signature !== "string") return false;
  if (!/^[0-9a-f]{128}$/.test(signed.signature) || !/^[0-9a-f]{64}$/.test(publicKeyHex)) {
    return false;
  }
  let message;
  try {
    message = signedMessage(signed.statement);
  } catch {
    return false; // a float: no canonical form
  }
  if (message === null) return false;
  return verifyEd25519(publicKeyHex, signed.signature, message);
}
