-- acquire_lease: take or renew a lease held by one instance at a time.
-- KEYS[1]  lease key   ARGV[1] instance id   ARGV[2] lease time (ms)
-- Reply    {"ok", 1} when this instance holds the lease now, {"ok", 0} when another does
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {'ok', 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {'ok', 1}
