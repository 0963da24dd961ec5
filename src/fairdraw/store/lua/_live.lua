-- _live: helpers prepended to every script (store/scripts.py); not a script of its own.
-- fd_now(): the store's clock in ms.  fd_event(key, ...): append one live event (field,
-- value pairs) to a draw's event stream, trimmed to about EVENTS_MAXLEN events.
-- fd_count(key, now): count one entry in the draw's per-minute and per-hour counters.
local function fd_now()
  local t = redis.call('TIME')
  return t[1] * 1000 + math.floor(t[2] / 1000)
end
local function fd_event(key, ...)
  return redis.call('XADD', key, 'MAXLEN', '~', EVENTS_MAXLEN, '*', ...)
end
local function fd_count(key, now)
  local minute = math.floor(now / 60000)
  redis.call('HINCRBY', key, string.format('%.0f', minute), 1)
  redis.call('HINCRBY', key, 'h' .. string.format('%.0f', math.floor(minute / 60)), 1)
end
