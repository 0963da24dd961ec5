-- record_result: closed and sealed → drawn, storing the proof bundle and the winners.
-- KEYS[1]  draw meta hash
-- ARGV[1]  proof bundle (canonical JSON)   ARGV[2] winners with their profiles (JSON)
-- Reply    {"ok", recorded (1|0), bundle, winners, drawn_ms}
--          | {"draw_not_found"} | {"invalid_transition"}
-- Exactly one result is ever recorded; later callers get that result back.
local m = redis.call('HMGET', KEYS[1], 'status', 'root', 'bundle', 'winners', 'drawn_ms')
if not m[1] then return {'draw_not_found'} end
if m[1] == 'drawn' then return {'ok', 0, m[3], m[4], m[5]} end
if m[1] ~= 'closed' or not m[2] then return {'invalid_transition'} end
local t = redis.call('TIME')
local now = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('HSET', KEYS[1], 'status', 'drawn', 'drawn_ms', now, 'bundle', ARGV[1],
  'winners', ARGV[2])
return {'ok', 1, ARGV[1], ARGV[2], now}
