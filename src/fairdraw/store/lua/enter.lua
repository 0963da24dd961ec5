-- enter: append one entry to an open draw's ledger, once per identity.
-- KEYS[1]  draw meta hash   KEYS[2] ledger list   KEYS[3] entrants hash (identity → index)
-- KEYS[4]  events stream    KEYS[5] per-minute counters   KEYS[6] the label's search bucket
-- KEYS[7]  the client address's attempts on this draw: hash {w: window, c: its count,
--          p: the window before's count}, expires after two windows
-- KEYS[8]  (only for a keyed request) its record: string "fingerprint \t index" + TTL
-- ARGV[1]  identity         ARGV[2] label (e.g. the GitHub login)
-- ARGV[3]  attempts allowed per window (0: no limit)  ARGV[4] the window (ms)
-- ARGV[5]  (keyed) the request's fingerprint      ARGV[6] (keyed) how long the record lives (ms)
-- Reply    {"ok", created (1|0), index, ledger element, replayed (1|0)}
--          The element is "+ offset \t identity \t label", offset = ms since the draw
--          opened in base 36; its ref is computed by whoever reads it (store/ledger.py)
--          | {"draw_not_found"} | {"wrong_draw_kind"} | {"draw_not_open"} | {"deadline_passed"}
--          | {"idempotency_key_reused"}: the record names a request with another fingerprint
--          | {"rate_limited", milliseconds until an attempt is allowed again}
-- Every attempt on an existing draw counts against the address's limit, before anything
-- else is decided, as a sliding window counter (fd_attempt). Counting here saves the
-- entry a round trip.
-- The deadline is checked against the store's clock, so it holds even if nobody closes
-- the draw; an identity that already entered gets its original entry back. A new entry
-- is counted, made searchable and announced (event "entry") in the same step. A keyed
-- request's record is written with its entry, so a retry whose first answer was lost gets
-- that first answer (created, the same entry) even after a crash, and never enters twice.
local m = redis.call('HMGET', KEYS[1], 'status', 'deadline_ms', 'kind', 'opened_ms')
if not m[1] then return {'draw_not_found'} end
if m[3] and m[3] ~= 'giveaway' then return {'wrong_draw_kind'} end
local now = fd_now()
local allowed = tonumber(ARGV[3])
if allowed > 0 then
  local wait = fd_attempt(KEYS[7], allowed, tonumber(ARGV[4]), now)
  if wait then return {'rate_limited', wait} end
end
if KEYS[8] then
  local kept = redis.call('GET', KEYS[8])
  if kept then
    local fingerprint, at = string.match(kept, '^([^\t]*)\t(%d+)')
    if fingerprint ~= ARGV[5] then return {'idempotency_key_reused'} end
    return {'ok', 1, tonumber(at), redis.call('LINDEX', KEYS[2], at), 1}
  end
end
local existing = redis.call('HGET', KEYS[3], ARGV[1])
if existing then
  return {'ok', 0, tonumber(existing), redis.call('LINDEX', KEYS[2], existing), 0}
end
if m[1] ~= 'open' then return {'draw_not_open'} end
if m[2] and now >= tonumber(m[2]) then return {'deadline_passed'} end
local stamp = string.format('%.0f', now)
local element = '+' .. fd_offset(now - tonumber(m[4] or '0')) .. '\t' .. ARGV[1] .. '\t' .. ARGV[2]
local index = redis.call('RPUSH', KEYS[2], element) - 1
redis.call('HSET', KEYS[3], ARGV[1], index)
fd_count(KEYS[5], now)
fd_name(KEYS[6], ARGV[2], index)
fd_event(KEYS[4], 't', 'entry', 'n', index + 1, 'i', index, 'w', ARGV[2], 'at', stamp)
if KEYS[8] then redis.call('SET', KEYS[8], ARGV[5] .. '\t' .. index, 'PX', ARGV[6]) end
return {'ok', 1, index, element, 0}
