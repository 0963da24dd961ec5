-- remember_entry: add an item to a user's list of entries, claims and ballots (harmless
-- to repeat), keeping the newest ARGV[3].
-- KEYS[1]  the user's list (a sorted set scored by time)
-- ARGV[1]  member   ARGV[2] time in ms   ARGV[3] items kept
-- Reply    {"ok"}
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
return {'ok'}
