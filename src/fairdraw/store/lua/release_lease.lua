-- release_lease: give up a lease if this instance holds it.
-- KEYS[1]  lease key   ARGV[1] instance id
-- Reply    {"ok", released (1|0)}
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return {'ok', 1}
end
return {'ok', 0}
