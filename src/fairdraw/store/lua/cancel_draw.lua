-- cancel_draw: draft, open or closed → cancelled.
-- KEYS[1]  draw meta hash   KEYS[2] events stream
-- Reply    {"ok"} | {"draw_not_found"} | {"invalid_transition"}
-- Announced (event "status") in the same step; the event stream then expires in 7 days.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'draw_not_found'} end
if status == 'cancelled' then return {'ok'} end
if status == 'drawn' then return {'invalid_transition'} end
local now = string.format('%.0f', fd_now())
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelled_ms', now)
fd_event(KEYS[2], 't', 'status', 's', 'cancelled', 'at', now)
redis.call('PEXPIRE', KEYS[2], EVENTS_TTL_MS)
return {'ok'}
