-- open_draw: draft → open; fixes the seed commitment and, for a duration, the deadline.
-- KEYS[1]  draw meta hash   KEYS[2] events stream
-- ARGV[1]  seed (hex, kept secret until the draw)   ARGV[2] commitment = sha256(seed) hex
-- Reply    {"ok", deadline_ms or ""} | {"draw_not_found"} | {"invalid_transition"}
--          | {"deadline_passed"}
-- Opening an open draw again is harmless: the first seed and commitment stay. The opening
-- is announced (event "status") in the same step.
local m = redis.call('HMGET', KEYS[1], 'status', 'duration_ms', 'deadline_ms')
if not m[1] then return {'draw_not_found'} end
if m[1] == 'open' then return {'ok', m[3] or ''} end
if m[1] ~= 'draft' then return {'invalid_transition'} end
local now = fd_now()
if m[3] and tonumber(m[3]) <= now then return {'deadline_passed'} end
local stamp = string.format('%.0f', now)
redis.call('HSET', KEYS[1], 'status', 'open', 'opened_ms', stamp,
  'seed', ARGV[1], 'commitment', ARGV[2])
local deadline = m[3] or ''
if m[2] then
  deadline = string.format('%.0f', now + tonumber(m[2]))
  redis.call('HSET', KEYS[1], 'deadline_ms', deadline)
end
fd_event(KEYS[2], 't', 'status', 's', 'open', 'n', 0, 'at', stamp)
return {'ok', deadline}
