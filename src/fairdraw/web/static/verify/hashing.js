// SHA-256 and HMAC-SHA256: WebCrypto where the page has it (a secure context: HTTPS or
// this machine), otherwise @noble/hashes, so that a fairdraw served over plain HTTP on a
// local network can still be checked. Every function returns a Promise of bytes.

const subtle = globalThis.crypto?.subtle;
let noble = null;

async function nobleHashes() {
  if (noble === null) {
    const [sha2, hmac] = await Promise.all([
      import("../vendor/noble-hashes/sha2.js"),
      import("../vendor/noble-hashes/hmac.js"),
    ]);
    noble = { sha256: sha2.sha256, hmac: hmac.hmac };
  }
  return noble;
}

/** sha256(bytes), 32 bytes. */
export async function sha256(bytes) {
  if (subtle) return new Uint8Array(await subtle.digest("SHA-256", bytes));
  return (await nobleHashes()).sha256(bytes);
}

/**
 * A function that computes HMAC-SHA256 under one key: imported once, used for many
 * messages (the random stream's blocks).
 */
export async function hmacSha256(key) {
  if (subtle) {
    const handle = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    return async (message) => new Uint8Array(await subtle.sign("HMAC", handle, message));
  }
  const { hmac, sha256: hash } = await nobleHashes();
  return async (message) => hmac(hash, key, message);
}
