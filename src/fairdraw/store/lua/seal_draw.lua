-- seal_draw: record the Merkle root of a closed draw's frozen ledger.
-- KEYS[1]  draw meta hash
-- ARGV[1]  root (hex)        ARGV[2] entry count the root covers
-- Reply    {"ok", root, sealed_ms} | {"draw_not_found"} | {"invalid_transition"} | {"seal_mismatch"}
-- The first seal stays: every caller computes the same root from the same frozen ledger.
local m = redis.call('HMGET', KEYS[1], 'status', 'root', 'sealed_ms', 'entry_count')
if not m[1] then return {'draw_not_found'} end
if m[2] then return {'ok', m[2], m[3]} end
if m[1] ~= 'closed' then return {'invalid_transition'} end
if tonumber(m[4]) ~= tonumber(ARGV[2]) then return {'seal_mismatch'} end
local t = redis.call('TIME')
local now = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('HSET', KEYS[1], 'root', ARGV[1], 'sealed_ms', now)
return {'ok', ARGV[1], now}
