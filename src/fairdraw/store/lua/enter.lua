-- enter: append one entry to an open draw's ledger, once per identity.
-- KEYS[1]  draw meta hash   KEYS[2] ledger list   KEYS[3] entrants hash (identity → index)
-- KEYS[4]  events stream    KEYS[5] per-minute counters   KEYS[6] the label's search bucket
-- KEYS[7]  (only for a keyed request) its record: string "fingerprint \t index" + TTL
-- ARGV[1]  identity         ARGV[2] public ref    ARGV[3] label (e.g. the GitHub login)
-- ARGV[4]  (keyed) the request's fingerprint      ARGV[5] (keyed) how long the record lives (ms)
-- Reply    {"ok", created (1|0), index, ledger element, replayed (1|0)}
--          | {"draw_not_found"} | {"wrong_draw_kind"} | {"draw_not_open"} | {"deadline_passed"}
--          | {"idempotency_key_reused"}: the record names a request with another fingerprint
-- The deadline is checked against the store's clock, so it holds even if nobody closes
-- the draw; an identity that already entered gets its original entry back. A new entry
-- is counted, made searchable and announced (event "entry") in the same step. A keyed
-- request's record is written with its entry, so a retry whose first answer was lost gets
-- that first answer (created, the same entry) even after a crash, and never enters twice.
local m = redis.call('HMGET', KEYS[1], 'status', 'deadline_ms', 'kind')
if not m[1] then return {'draw_not_found'} end
if m[3] and m[3] ~= 'giveaway' then return {'wrong_draw_kind'} end
if KEYS[7] then
  local kept = redis.call('GET', KEYS[7])
  if kept then
    local fingerprint, at = string.match(kept, '^([^\t]*)\t(%d+)')
    if fingerprint ~= ARGV[4] then return {'idempotency_key_reused'} end
    return {'ok', 1, tonumber(at), redis.call('LINDEX', KEYS[2], at), 1}
  end
end
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then
  return {'ok', 0, tonumber(existing), redis.call('LINDEX', KEYS[2], existing), 0}
end
if m[1] ~= 'open' then return {'draw_not_open'} end
local now = fd_now()
if m[2] and now >= tonumber(m[2]) then return {'deadline_passed'} end
local stamp = string.format('%.0f', now)
local element = ARGV[2] .. '\t' .. stamp .. '\t' .. ARGV[1] .. '\t' .. ARGV[3]
local index = redis.call('RPUSH', KEYS[2], element) - 1
redis.call('HSET', KEYS[3], ARGV[1], index)
fd_count(KEYS[5], now)
fd_name(KEYS[6], ARGV[3], index)
fd_event(KEYS[4], 't', 'entry', 'n', index + 1, 'i', index, 'w', ARGV[3], 'at', stamp)
if KEYS[7] then redis.call('SET', KEYS[7], ARGV[4] .. '\t' .. index, 'PX', ARGV[5]) end
return {'ok', 1, index, element, 0}
