-- create_draw: store a new draw in status "draft".
-- KEYS[1]  draw meta hash
-- ARGV     field, value, field, value, ... (the draw's fixed fields)
-- Reply    {"ok", created_ms} | {"draw_exists"}
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {'draw_exists'}
end
local t = redis.call('TIME')
local now = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
redis.call('HSET', KEYS[1], 'status', 'draft', 'created_ms', now, unpack(ARGV))
return {'ok', now}
