// A worker that checks and hashes chunks of an entries file (ledger.js), so that a
// ledger of millions of entries never blocks the page.

import { hashChunk } from "./ledger.js";

self.onmessage = async ({ data }) => {
  try {
    const result = await hashChunk(data);
    const transfer = [result.root?.buffer, result.tickets?.buffer].filter(Boolean);
    self.postMessage({ id: data.id, result }, transfer);
  } catch (error) {
    self.postMessage({ id: data.id, error: String(error) });
  }
};
