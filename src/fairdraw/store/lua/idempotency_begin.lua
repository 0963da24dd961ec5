-- idempotency_begin: claim an Idempotency-Key record for one request, or find its fate.
-- KEYS[1]  the record (hash: fp, state pending|done, owner, response)
-- ARGV[1]  the request's fingerprint   ARGV[2] a random owner id   ARGV[3] lease (ms)
-- Reply    {"ok", "new"}: the record is now pending, owned by ARGV[2] for ARGV[3] ms
--          | {"ok", "mismatch"}: the key names a request with another fingerprint
--          | {"ok", "in_flight"}: the first request with this key has not finished
--          | {"ok", "done", sealed response}
-- The lease ends a pending record whose request never finished (its process died), so
-- the key can be sent again; a finished record lives as long as results are kept.
local r = redis.call('HMGET', KEYS[1], 'fp', 'state', 'response')
if not r[1] then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'state', 'pending', 'owner', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'ok', 'new'}
end
if r[1] ~= ARGV[1] then return {'ok', 'mismatch'} end
if r[2] ~= 'done' then return {'ok', 'in_flight'} end
return {'ok', 'done', r[3]}
