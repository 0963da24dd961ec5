-- record_result: closed and sealed → drawn, storing the proof bundle and the winners.
-- KEYS[1]  draw meta hash   KEYS[2] events stream
-- ARGV[1]  proof bundle (canonical JSON)   ARGV[2] winners with their profiles (JSON)
-- Reply    {"ok", recorded (1|0), bundle, winners, drawn_ms}
--          | {"draw_not_found"} | {"invalid_transition"}
-- Exactly one result is ever recorded; later callers get that result back. It is
-- announced (event "drawn") in the same step; the event stream then expires in 7 days.
local m = redis.call('HMGET', KEYS[1], 'status', 'root', 'bundle', 'winners', 'drawn_ms')
if not m[1] then return {'draw_not_found'} end
if m[1] == 'drawn' then return {'ok', 0, m[3], m[4], m[5]} end
if m[1] ~= 'closed' or not m[2] then return {'invalid_transition'} end
local now = string.format('%.0f', fd_now())
redis.call('HSET', KEYS[1], 'status', 'drawn', 'drawn_ms', now, 'bundle', ARGV[1],
  'winners', ARGV[2])
fd_event(KEYS[2], 't', 'status', 's', 'drawn', 'at', now)
redis.call('PEXPIRE', KEYS[2], EVENTS_TTL_MS)
return {'ok', 1, ARGV[1], ARGV[2], now}
