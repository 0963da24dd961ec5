// Byte strings: hex, UTF-8, concatenation and the encodings docs/fairness.md names.

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** UTF-8 bytes of a string. */
export function utf8(text) {
  return encoder.encode(text);
}

/**
 * The text of UTF-8 bytes, or null when they are not valid UTF-8. A byte order mark is
 * kept as U+FEFF, never skipped: the formats allow none, so it must stay visible.
 */
export function decodeUtf8(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Where the first byte sequence that is not UTF-8 starts (as Python's decoder reports
 * it), or -1 when all of `bytes` is UTF-8. Unicode's table of well-formed sequences.
 */
function invalidUtf8At(bytes) {
  for (let at = 0; at < bytes.length;) {
    const lead = bytes[at];
    let size = 1;
    let low = 0x80;
    let high = 0xbf;
    if (lead < 0x80) {
      at++;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) size = 2;
    else if (lead >= 0xe0 && lead <= 0xef) {
      size = 3;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      size = 4;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return at;
    for (let k = 1; k < size; k++) {
      const byte = bytes[at + k];
      const [min, max] = k === 1 ? [low, high] : [0x80, 0xbf];
      if (byte === undefined || byte < min || byte > max) return at;
    }
    at += size;
  }
  return -1;
}

/** Why `bytes` are not UTF-8, worded as fairdraw's Python verifier words it. */
export function notUtf8(bytes, what, offset = 0) {
  const at = invalidUtf8At(bytes);
  const byte = bytes[at].toString(16).padStart(2, "0");
  return `${what} is not UTF-8: invalid byte 0x${byte} at offset ${offset + at}`;
}

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
}

/** The bytes of lowercase or uppercase hex (callers check the pattern first). */
export function fromHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** One byte string from several. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** u64be(x): the 8-byte big-endian encoding of 0 <= x < 2^64 (a number or a BigInt). */
export function u64be(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** label(s): the ASCII bytes of s followed by one 0x00 byte. */
export function label(text) {
  return concat(utf8(text), new Uint8Array([0]));
}

/** Whether two byte strings are equal. */
export function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
