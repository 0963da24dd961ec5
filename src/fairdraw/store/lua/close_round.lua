-- close_round: close the round of a daily lottery once its day has ended.
-- KEYS[1]  round draw meta hash   KEYS[2] ledger list   KEYS[3] events stream
-- ARGV[1]  now (ms) for tests, or "" to use the store's clock   ARGV[2] round end (ms)
-- ARGV[3..] field, value, ... of the round draw, stored if no ballot ever created it
-- Reply    {"ok", status, entry_count} | {"round_not_over"} | {"invalid_transition"}
--          | {"wrong_draw_kind"}: the id belongs to a draw that is no lottery round
-- A round without ballots is stored closed with no entries, so that it is drawn (with no
-- winner) like any other and its day is recorded. Closing again answers the current state.
-- The closing is announced (event "status") in the same step.
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  now = fd_now()
end
local m = redis.call('HMGET', KEYS[1], 'status', 'entry_count', 'kind')
if m[1] and m[3] ~= 'lottery' then return {'wrong_draw_kind'} end
if m[1] == 'closed' or m[1] == 'drawn' then return {'ok', m[1], tonumber(m[2])} end
if m[1] == 'cancelled' then return {'invalid_transition'} end
if now < tonumber(ARGV[2]) then return {'round_not_over'} end
local count = redis.call('LLEN', KEYS[2])
if not m[1] then
  redis.call('HSET', KEYS[1], 'created_ms', ARGV[2], 'opened_ms', ARGV[2], unpack(ARGV, 3))
end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_ms', ARGV[2], 'entry_count', count)
fd_event(KEYS[3], 't', 'status', 's', 'closed', 'n', count, 'at', ARGV[2])
return {'ok', 'closed', count}
