// The selection algorithm of docs/fairness.md (unchanged in fairdraw/2): the HMAC
// stream, unbiased integers, the partial Fisher-Yates shuffle, prize slots, winners.

import { concat, u64be, utf8 } from "./bytes.js";
import { hmacSha256 } from "./hashing.js";

const WORD_SPACE = 1n << 64n;
const STREAM_LABEL = utf8("stream");

/** The stream of 64-bit words keyed by `key`: block_j = HMAC-SHA256(key, "stream" || u64be(j)). */
class RandomStream {
  constructor(mac) {
    this.mac = mac;
    this.blockIndex = 0;
    this.words = [];
  }

  async nextWord() {
    if (this.words.length === 0) {
      const block = await this.mac(concat(STREAM_LABEL, u64be(this.blockIndex)));
      this.blockIndex += 1;
      const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
      // Reversed, so that pop() hands the words out front to back.
      this.words = [24, 16, 8, 0].map((at) => view.getBigUint64(at));
    }
    return this.words.pop();
  }

  /** An unbiased integer in [0, m), 1 <= m <= 2^64, by rejection sampling. */
  async uniform(m) {
    const bound = BigInt(m);
    const limit = WORD_SPACE - (WORD_SPACE % bound);
    for (;;) {
      const word = await this.nextWord();
      if (word < limit) return Number(word % bound);
    }
  }
}

/** The prize slots: prizes in listed order, each repeated by its quantity. */
export function prizeSlots(prizes) {
  const slots = [];
  for (const [name, quantity] of prizes) {
    for (let i = 0; i < quantity; i++) slots.push(name);
  }
  return slots;
}

/**
 * The draw's outcome, {winners: [{slot, prize, index}], alternates: [index], unawarded:
 * [name]}, from the stream keyed by `key`. With `owners`, a pick whose owner already won
 * or is an alternate is skipped (fairdraw/1's one prize per entrant).
 */
export async function selectWinners(key, entryCount, prizes, alternates, owners = null) {
  const slots = prizeSlots(prizes);
  const wanted = slots.length + Number(alternates);
  const stream = new RandomStream(await hmacSha256(key));
  const moved = new Map();
  const chosen = [];
  const seenOwners = new Set();
  for (let r = 0; r < entryCount && chosen.length < wanted; r++) {
    const j = r + (await stream.uniform(entryCount - r));
    const atR = moved.has(r) ? moved.get(r) : r;
    moved.delete(r);
    let pick = atR;
    if (j !== r) {
      pick = moved.has(j) ? moved.get(j) : j;
      moved.set(j, atR);
    }
    if (owners !== null) {
      const owner = owners(pick);
      if (seenOwners.has(owner)) continue;
      seenOwners.add(owner);
    }
    chosen.push(pick);
  }
  const awarded = chosen.slice(0, slots.length);
  return {
    winners: awarded.map((index, slot) => ({ slot, prize: slots[slot], index })),
    alternates: chosen.slice(slots.length),
    unawarded: slots.slice(awarded.length),
  };
}
