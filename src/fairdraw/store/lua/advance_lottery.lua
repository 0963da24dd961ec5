-- advance_lottery: record that a lottery's rounds up to a day are drawn.
-- KEYS[1]  lottery hash   ARGV[1] day drawn (ISO date, YYYY-MM-DD)
-- Reply    {"ok", last_day}
-- Days only move forward (ISO dates sort as text): a slower process that drew an earlier
-- day changes nothing.
local last = redis.call('HGET', KEYS[1], 'last_day')
if last and last >= ARGV[1] then return {'ok', last} end
redis.call('HSET', KEYS[1], 'last_day', ARGV[1])
return {'ok', ARGV[1]}
