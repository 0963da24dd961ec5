-- finish_github_sign_in: keep the entry a sign-in made, for a callback that comes again.
-- KEYS[1]  the sign-in hash
-- ARGV[1]  the entry's index
-- Reply    {"ok"}; a sign-in that expired meanwhile is not brought back (nor its TTL lost)
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'index', ARGV[1])
end
return {'ok'}
