-- open_draw: draft → open; fixes the seed commitment and, for a duration, the deadline.
-- KEYS[1]  draw meta hash
-- ARGV[1]  seed (hex, kept secret until the draw)   ARGV[2] commitment = sha256(seed) hex
-- Reply    {"ok"} | {"draw_not_found"} | {"invalid_transition"} | {"deadline_passed"}
-- Opening an open draw again is harmless: the first seed and commitment stay.
local m = redis.call('HMGET', KEYS[1], 'status', 'duration_ms', 'deadline_ms')
if not m[1] then return {'draw_not_found'} end
if m[1] == 'open' then return {'ok'} end
if m[1] ~= 'draft' then return {'invalid_transition'} end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if m[3] and tonumber(m[3]) <= now then return {'deadline_passed'} end
redis.call('HSET', KEYS[1], 'status', 'open', 'opened_ms', string.format('%.0f', now),
  'seed', ARGV[1], 'commitment', ARGV[2])
if m[2] then
  redis.call('HSET', KEYS[1], 'deadline_ms', string.format('%.0f', now + tonumber(m[2])))
end
return {'ok'}
