-- create_lottery: store a new daily lottery.
-- KEYS[1]  lottery hash
-- ARGV     field, value, field, value, ... (the lottery's fixed fields)
-- Reply    {"ok", created_ms} | {"lottery_exists"}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'lottery_exists'} end
local t = redis.call('TIME')
local now = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('HSET', KEYS[1], 'created_ms', now, unpack(ARGV))
return {'ok', now}
