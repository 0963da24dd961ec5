-- save_raffle_chunk: keep the ticket numbers of a raffle's ledger chunk, and its root.
-- KEYS[1]  numbers hash (chunk → numbers)   KEYS[2] chunk roots hash (chunk → root)
-- ARGV[1]  chunk number   ARGV[2] comma-separated ticket numbers   ARGV[3] root (hex) or ""
-- Reply    {"ok"}
-- Both values follow from the raffle's permutation alone, so saving again is harmless.
-- The root is given only for a complete chunk; a sealed ledger's last chunk has numbers
-- but no chunk root of its own.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) end
return {'ok'}
