-- seal_draw: record the Merkle root of a closed draw's frozen ledger.
-- KEYS[1]  draw meta hash   KEYS[2] events stream
-- ARGV[1]  root (hex)        ARGV[2] entry count the root covers
-- ARGV[3..5] (a draw that binds a beacon) the chain's genesis time and period (seconds)
--          and the margin (seconds) the bound round must lie beyond the seal
-- Reply    {"ok", root, sealed_ms, beacon round or ""} | {"draw_not_found"}
--          | {"invalid_transition"} | {"seal_mismatch"}
-- The first seal stays: every caller computes the same root from the same frozen ledger.
-- A draw that binds a beacon gets its round here, from the same clock reading as the
-- seal time: the first round after seal + margin,
--   R = floor((floor(sealed_ms / 1000) + margin - genesis) / period) + 2
-- The round's publication time (ms) is kept with it. It is announced (event "sealed",
-- with the round) in the same step.
local m = redis.call('HMGET', KEYS[1], 'status', 'root', 'sealed_ms', 'entry_count', 'beacon_round')
if not m[1] then return {'draw_not_found'} end
if m[2] then return {'ok', m[2], m[3], m[5] or ''} end
if m[1] ~= 'closed' then return {'invalid_transition'} end
if tonumber(m[4]) ~= tonumber(ARGV[2]) then return {'seal_mismatch'} end
local now_ms = fd_now()
local now = string.format('%.0f', now_ms)
redis.call('HSET', KEYS[1], 'root', ARGV[1], 'sealed_ms', now)
local round = ''
if ARGV[3] then
  local seconds = math.floor(now_ms / 1000) + tonumber(ARGV[5]) - tonumber(ARGV[3])
  local r = math.floor(seconds / tonumber(ARGV[4])) + 2
  round = string.format('%.0f', r)
  local due = string.format('%.0f', (tonumber(ARGV[3]) + (r - 1) * tonumber(ARGV[4])) * 1000)
  redis.call('HSET', KEYS[1], 'beacon_round', round, 'beacon_due_ms', due)
end
fd_event(KEYS[2], 't', 'sealed', 'root', ARGV[1], 'n', ARGV[2], 'at', now, 'round', round)
return {'ok', ARGV[1], now, round}
