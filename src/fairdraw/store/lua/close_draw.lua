-- close_draw: open → closed; freezes the ledger and records its length.
-- KEYS[1]  draw meta hash   KEYS[2] ledger list   KEYS[3] events stream
-- Reply    {"ok", status, entry_count, closed_ms} | {"draw_not_found"} | {"invalid_transition"}
-- Closing a closed or drawn draw again answers its current state. When the deadline has
-- passed, the closing time is the deadline: no entry was accepted after it. The closing
-- is announced (event "status") in the same step.
local m = redis.call('HMGET', KEYS[1], 'status', 'deadline_ms', 'entry_count', 'closed_ms')
if not m[1] then return {'draw_not_found'} end
if m[1] == 'closed' or m[1] == 'drawn' then return {'ok', m[1], tonumber(m[3]), m[4]} end
if m[1] ~= 'open' then return {'invalid_transition'} end
local now = fd_now()
if m[2] and tonumber(m[2]) < now then now = tonumber(m[2]) end
local closed = string.format('%.0f', now)
local count = redis.call('LLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_ms', closed, 'entry_count', count)
fd_event(KEYS[3], 't', 'status', 's', 'closed', 'n', count, 'at', closed)
return {'ok', 'closed', count, closed}
