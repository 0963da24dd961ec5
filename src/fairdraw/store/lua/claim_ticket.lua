-- claim_ticket: hand the next ticket of an open raffle to a claimant.
-- KEYS[1]  draw meta hash   KEYS[2] ledger list   KEYS[3] claimants hash (claimant → count)
-- KEYS[4]  events stream    KEYS[5] per-minute counters   KEYS[6] the name's search bucket
-- KEYS[7]  (only for a keyed request) its record: string
--          "fingerprint \t claim index \t sealed code" + TTL
-- ARGV[1]  claimant         ARGV[2] keyed hash of the verification code
-- ARGV[3]  the holder's name ("" for an anonymous claimant: nothing to search or show)
-- ARGV[4]  (keyed) the request's fingerprint
-- ARGV[5]  (keyed) the verification code sealed under the client's key (AES-GCM; the store
--          cannot open it)   ARGV[6] (keyed) how long the record lives (ms)
-- Reply    {"ok", claim index, claimed_ms, sold_out (1|0), replayed (1|0), sealed code}
--          | {"draw_not_found"} | {"wrong_draw_kind"} | {"draw_not_open"} | {"sold_out"}
--          | {"ticket_limit_reached"}
--          | {"idempotency_key_reused"}: the record names a request with another fingerprint
-- The claim index is the ledger position; the ticket number is derived from it outside.
-- The claim that takes the last ticket also closes the raffle, in the same step; the
-- claim (event "claim") and the closing (event "status") are announced with it. A keyed
-- request's record is written with its claim: a retry whose first answer was lost gets the
-- same ticket and its sealed code back (before any check that a new claim would face: the
-- raffle may have sold out or closed since), and never claims twice.
local m = redis.call('HMGET', KEYS[1], 'status', 'kind', 'ticket_count', 'per_claimant')
if not m[1] then return {'draw_not_found'} end
if m[2] ~= 'raffle' then return {'wrong_draw_kind'} end
local total = tonumber(m[3])
if KEYS[7] then
  local kept = redis.call('GET', KEYS[7])
  if kept then
    local fingerprint, at, sealed = string.match(kept, '^([^\t]*)\t(%d+)\t(.*)$')
    if fingerprint ~= ARGV[4] then return {'idempotency_key_reused'} end
    local element = redis.call('LINDEX', KEYS[2], at)
    local claimed = string.match(element, '^[^\t]*\t(%d+)')
    local last = 0
    if tonumber(at) + 1 == total then last = 1 end
    return {'ok', tonumber(at), claimed, last, 1, sealed}
  end
end
local count = redis.call('LLEN', KEYS[2])
if count >= total then return {'sold_out'} end
if m[1] ~= 'open' then return {'draw_not_open'} end
local held = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if held >= tonumber(m[4]) then return {'ticket_limit_reached'} end
local clock = fd_now()
local now = string.format('%.0f', clock)
local index = redis.call('RPUSH', KEYS[2], ARGV[2] .. '\t' .. now .. '\t' .. ARGV[1]) - 1
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
fd_count(KEYS[5], clock)
if ARGV[3] ~= '' then fd_name(KEYS[6], ARGV[3], index) end
fd_event(KEYS[4], 't', 'claim', 'n', index + 1, 'i', index, 'w', ARGV[3], 'at', now)
if KEYS[7] then
  redis.call('SET', KEYS[7], ARGV[4] .. '\t' .. index .. '\t' .. ARGV[5], 'PX', ARGV[6])
end
if index + 1 == total then
  redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_ms', now, 'entry_count', total)
  fd_event(KEYS[4], 't', 'status', 's', 'closed', 'n', total, 'at', now)
  return {'ok', index, now, 1, 0, ''}
end
return {'ok', index, now, 0, 0, ''}
