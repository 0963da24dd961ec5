-- cancel_draw: draft, open or closed → cancelled.
-- KEYS[1]  draw meta hash
-- Reply    {"ok"} | {"draw_not_found"} | {"invalid_transition"}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'draw_not_found'} end
if status == 'cancelled' then return {'ok'} end
if status == 'drawn' then return {'invalid_transition'} end
local t = redis.call('TIME')
local now = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelled_ms', now)
return {'ok'}
