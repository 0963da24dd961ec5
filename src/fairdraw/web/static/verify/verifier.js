// The browser's verifier of fairdraw proof bundles: the bytes of a bundle and of its
// entries file in, {ok, checks: [{name, ok, detail}]} out, with the checks, their order
// and their names of fairdraw's Python verifier (fairdraw.domain.verification).

import { decodeUtf8, notUtf8 } from "./bytes.js";
import { QUICKNET } from "./beacon.js";
import { DuplicateKeyError, isObject, JsonError, parseJson } from "./json.js";
import { pyRepr } from "./report.js";
import * as v1 from "./v1.js";
import * as v2 from "./v2.js";

export { chainFromJson, QUICKNET } from "./beacon.js";

/**
 * The JSON document in `bytes`, strictly parsed: {value, firstFloat} (see parseJson), or
 * {error} saying what is wrong with it.
 */
export function parseDocument(bytes, what) {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { error: `${what} starts with a byte order mark (UTF-8 without BOM)` };
  }
  const text = decodeUtf8(bytes);
  if (text === null) return { error: notUtf8(bytes, what) };
  try {
    return parseJson(text);
  } catch (error) {
    if (error instanceof DuplicateKeyError) {
      return { error: `${what} has the key ${pyRepr(error.key)} twice in one object` };
    }
    if (error instanceof JsonError) return { error: `${what} is not JSON: ${error.message}` };
    throw error;
  }
}

/**
 * The algorithm a bundle that is not strict JSON says it follows, read leniently (byte
 * order mark skipped, bad bytes replaced, repeated keys and NaN allowed), so that its
 * report lists the checks of its version.
 */
function claimedAlgorithm(bytes) {
  try {
    const document = parseJson(new TextDecoder().decode(bytes), { lenient: true }).value;
    return isObject(document) ? document.algorithm : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verify a bundle against its entries file, both as bytes (Uint8Array). `chains` are
 * the beacon chains whose keys are pinned (quicknet unless told otherwise);
 * `onProgress(done, total)` follows the hashing of the entries.
 */
export async function verifyBytes(
  bundleBytes,
  entriesBytes,
  { chains = [QUICKNET], onProgress } = {},
) {
  const parsed = parseDocument(bundleBytes, "the bundle");
  if (parsed.error !== undefined) {
    const claimed = claimedAlgorithm(bundleBytes);
    if (claimed === v1.ALGORITHM) return v1.formatFailure(parsed.error);
    return v2.formatFailure(parsed.error, claimed === v2.ALGORITHM ? claimed : null);
  }
  const bundle = parsed.value;
  const algorithm = isObject(bundle) ? bundle.algorithm : undefined;
  if (algorithm === v1.ALGORITHM) return v1.verifyV1(bundle, entriesBytes, { onProgress });
  if (algorithm === v2.ALGORITHM) {
    const firstFloat = parsed.firstFloat;
    return v2.verifyV2(bundleBytes, bundle, entriesBytes, { chains, firstFloat, onProgress });
  }
  if (!isObject(bundle)) return v2.formatFailure("the bundle must be a JSON object");
  return v2.formatFailure(
    `algorithm is ${pyRepr(algorithm)}; this verifier implements 'fairdraw/1' and 'fairdraw/2'`,
  );
}
