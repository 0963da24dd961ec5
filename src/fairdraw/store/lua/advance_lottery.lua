-- advance_lottery: record that a lottery's rounds up to a day are drawn.
-- KEYS[1]  lottery hash   KEYS[2] all-time top participants (zset: name → ballots)
-- ARGV[1]  day drawn (ISO date, YYYY-MM-DD)
-- ARGV[2..] name, ballots, ... of that day's round, added to the all-time top list
-- Reply    {"ok", last_day}
-- Days only move forward (ISO dates sort as text): a slower process that drew an earlier
-- day changes nothing, so a round's ballots are added to the all-time list exactly once.
local last = redis.call('HGET', KEYS[1], 'last_day')
if last and last >= ARGV[1] then return {'ok', last} end
redis.call('HSET', KEYS[1], 'last_day', ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('ZINCRBY', KEYS[2], ARGV[i + 1], ARGV[i])
end
return {'ok', ARGV[1]}
