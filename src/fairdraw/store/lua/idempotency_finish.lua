-- idempotency_finish: keep a request's response under its record, or let the key go.
-- KEYS[1]  the record (see idempotency_begin)
-- ARGV[1]  the owner id given to idempotency_begin
-- ARGV[2]  the sealed response to keep, or "" to drop the record (the answer is not one
--          to replay: a refusal that may change, an error of the server)
-- ARGV[3]  how long a kept response lives (ms)
-- Reply    {"ok", 1} | {"ok", 0}: the record is no longer this owner's (its lease ended
--          and another request took the key); nothing was changed
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner ~= ARGV[1] then return {'ok', 0} end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  return {'ok', 1}
end
redis.call('HSET', KEYS[1], 'state', 'done', 'response', ARGV[2])
redis.call('HDEL', KEYS[1], 'owner')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'ok', 1}
