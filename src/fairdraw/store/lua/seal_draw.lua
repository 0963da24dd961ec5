-- seal_draw: record the Merkle root of a closed draw's frozen ledger.
-- KEYS[1]  draw meta hash   KEYS[2] events stream
-- ARGV[1]  root (hex)        ARGV[2] entry count the root covers
-- Reply    {"ok", root, sealed_ms} | {"draw_not_found"} | {"invalid_transition"} | {"seal_mismatch"}
-- The first seal stays: every caller computes the same root from the same frozen ledger.
-- It is announced (event "sealed") in the same step.
local m = redis.call('HMGET', KEYS[1], 'status', 'root', 'sealed_ms', 'entry_count')
if not m[1] then return {'draw_not_found'} end
if m[2] then return {'ok', m[2], m[3]} end
if m[1] ~= 'closed' then return {'invalid_transition'} end
if tonumber(m[4]) ~= tonumber(ARGV[2]) then return {'seal_mismatch'} end
local now = string.format('%.0f', fd_now())
redis.call('HSET', KEYS[1], 'root', ARGV[1], 'sealed_ms', now)
fd_event(KEYS[2], 't', 'sealed', 'root', ARGV[1], 'n', ARGV[2], 'at', now)
return {'ok', ARGV[1], now}
