-- cast_ballot: add one ballot to the round of a daily lottery that the store's clock is in.
-- KEYS[1]  round draw meta hash   KEYS[2] ledger list   KEYS[3] entrants hash (identity → ballots)
-- KEYS[4]  events stream   KEYS[5] per-minute counters   KEYS[6] the name's search bucket
-- KEYS[7]  top participants (zset: name → ballots in this round)
-- KEYS[8]  the client address's attempts on this round (fd_attempt)
-- KEYS[9]  (only for a keyed request) its record: string
--          "fingerprint \t index \t the identity's ballots then" + TTL
-- ARGV[1]  now (ms) for tests, or "" to use the store's clock
-- ARGV[2]  round start (ms, inclusive)   ARGV[3] round end (ms, exclusive)
-- ARGV[4]  identity   ARGV[5] "": the ballot's ref (and fairdraw/2 nonce) derive from the
--          round's salt and the ballot's index; or a ref to store as given (full layout)
--          ARGV[6] label (the participant's display name)   ARGV[7] name (search, top list)
-- ARGV[8]  (keyed) the request's fingerprint, else ""   ARGV[9] (keyed) how long the
--          record lives (ms), else ""
-- ARGV[10] ballots allowed per window from the address (0 or absent: no limit)
-- ARGV[11] the window (ms)
-- ARGV[12..] field, value, ... of the round draw, stored when its first ballot creates it;
--          may be left out while the round exists (every ballot but a day's first)
-- Reply    {"ok", "cast", index, the identity's ballots in this round, replayed (1|0),
--           the ballot's ledger element: "ref \t cast_ms \t identity \t label" with a ref,
--           else "+ offset \t identity \t label", offset = ms since the round opened
--           in base 36
--           (read by store/ledger.py)}
--          | {"ok", "elsewhere", now}: the clock is outside this round; ask the right one
--          | {"ok", "new_round"}: the round does not exist and no fields came to create it;
--            ask again with them
--          | {"draw_not_open"}: the round was closed (its day ended) or cancelled
--          | {"wrong_draw_kind"}: the id belongs to a draw that is no lottery round
--          | {"idempotency_key_reused"}: the record names a request with another fingerprint
--          | {"rate_limited", milliseconds until a ballot is allowed again}
-- The cut-off is exact: a ballot belongs to the round whose [start, end) holds the store's
-- time when this script runs, and to no other. The ballot is counted, ranked and
-- announced (event "ballot"; "status" open when it creates the round) in the same step.
-- A keyed request's record is written with its ballot: a retry whose first answer was lost
-- gets that ballot back (whatever the clock says now) and never casts twice. The address's
-- limit counts the attempts that reach the round (not a replay, nor an answer that asks
-- again elsewhere or with the round's fields), before anything is written: counting here
-- saves the ballot a round trip.
if KEYS[9] then
  local kept = redis.call('GET', KEYS[9])
  if kept then
    local fingerprint, at, mine = string.match(kept, '^([^\t]*)\t(%d+)\t(%d+)$')
    if fingerprint ~= ARGV[8] then return {'idempotency_key_reused'} end
    return {'ok', 'cast', tonumber(at), tonumber(mine), 1, redis.call('LINDEX', KEYS[2], at)}
  end
end
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  now = fd_now()
end
local stamp = string.format('%.0f', now)
if now < tonumber(ARGV[2]) or now >= tonumber(ARGV[3]) then return {'ok', 'elsewhere', stamp} end
local m = redis.call('HMGET', KEYS[1], 'status', 'kind', 'opened_ms')
local status, opened = m[1], m[3]
-- Round ids are derived (60 bits of a hash): never let one land in another kind of draw.
if status and m[2] ~= 'lottery' then return {'wrong_draw_kind'} end
if not status then
  if #ARGV < 12 then return {'ok', 'new_round'} end
elseif status ~= 'open' then
  return {'draw_not_open'}
end
local allowed = tonumber(ARGV[10] or '0') or 0
if allowed > 0 then
  local wait = fd_attempt(KEYS[8], allowed, tonumber(ARGV[11]), now)
  if wait then return {'rate_limited', wait} end
end
if not status then
  redis.call('HSET', KEYS[1], 'status', 'open', 'created_ms', stamp, 'opened_ms', stamp,
    unpack(ARGV, 12))
  opened = stamp
  fd_event(KEYS[4], 't', 'status', 's', 'open', 'n', 0, 'at', stamp)
end
local element
if ARGV[5] == '' then
  element = '+' .. fd_offset(now - tonumber(opened or '0')) .. '\t' .. ARGV[4] .. '\t' .. ARGV[6]
else
  element = ARGV[5] .. '\t' .. stamp .. '\t' .. ARGV[4] .. '\t' .. ARGV[6]
end
local index = redis.call('RPUSH', KEYS[2], element) - 1
local mine = redis.call('HINCRBY', KEYS[3], ARGV[4], 1)
fd_count(KEYS[5], now)
redis.call('ZINCRBY', KEYS[7], 1, ARGV[7])
if mine == 1 then fd_name(KEYS[6], ARGV[7], index) end
fd_event(KEYS[4], 't', 'ballot', 'n', index + 1, 'i', index, 'w', ARGV[7], 'at', stamp)
if KEYS[9] then
  redis.call('SET', KEYS[9], ARGV[8] .. '\t' .. index .. '\t' .. mine, 'PX', ARGV[9])
end
return {'ok', 'cast', index, mine, 0, element}
