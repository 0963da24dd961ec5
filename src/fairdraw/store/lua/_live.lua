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
-- fd_attempt(key, allowed, window_ms, now): count one attempt of a client address (hash
-- {w: window, c: its count, p: the window before's count}, expiring after two windows)
-- as a sliding window counter: the window before counts in proportion to how much of it
-- the sliding window still covers (the approximation of the rate limiter the other limits
-- use). Returns nil when the attempt is allowed (and counted), else the milliseconds until
-- one would be (nothing counted).
local function fd_attempt(key, allowed, window_ms, now)
  local window = math.floor(now / window_ms)
  local r = redis.call('HMGET', key, 'w', 'c', 'p')
  local count, before = 0, 0
  if tonumber(r[1]) == window then
    count, before = tonumber(r[2]), tonumber(r[3])
  elseif tonumber(r[1]) == window - 1 then
    before = tonumber(r[2])
  end
  local elapsed = now - window * window_ms
  local weighted = before * (window_ms - elapsed) / window_ms + count
  if weighted + 1 > allowed then
    local wait = window_ms - elapsed
    if count + 1 <= allowed and before > 0 then
      -- The window before's share must shrink by what is over: it does so linearly.
      wait = math.ceil((weighted + 1 - allowed) * window_ms / before)
    end
    return math.max(1, wait)
  end
  redis.call('HSET', key, 'w', window, 'c', count + 1, 'p', before)
  redis.call('PEXPIRE', key, 2 * window_ms)
  return nil
end
-- fd_name(key, name, index): index an entrant's name for the dashboard's search: the
-- element "name<TAB>index in base 36" pushed on the name's bucket, a list in entry order
-- (elements of a list's packed nodes cost 2 bytes besides their text; a string grown by
-- APPEND keeps up to as much again free to grow into). A bucket still in the earlier
-- form, a string of "name<TAB>index<LF>" lines, is turned into the list first.
local FD_DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
local function fd_base36(n)
  if n == 0 then return '0' end
  local digits = ''
  while n > 0 do
    local d = n % 36
    digits = string.sub(FD_DIGITS, d + 1, d + 1) .. digits
    n = math.floor(n / 36)
  end
  return digits
end
-- A ledger element's time: milliseconds since the draw opened, in base 36 (a clock that
-- was behind when the draw opened gives a negative one).
local function fd_offset(ms)
  if ms < 0 then return '-' .. fd_base36(-ms) end
  return fd_base36(ms)
end
local function fd_names_upgrade(key)
  if redis.call('TYPE', key).ok ~= 'string' then return end
  local text = redis.call('GET', key)
  redis.call('DEL', key)
  local batch = {}
  for name, index in string.gmatch(text, '([^\n]*)\t(%d+)\n') do
    batch[#batch + 1] = name .. '\t' .. fd_base36(tonumber(index))
    if #batch == 1000 then
      redis.call('RPUSH', key, unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then redis.call('RPUSH', key, unpack(batch)) end
end
local function fd_name(key, name, index)
  local element = name .. '\t' .. fd_base36(tonumber(index))
  local pushed = redis.pcall('RPUSH', key, element)
  if type(pushed) == 'table' and pushed.err then
    fd_names_upgrade(key)
    redis.call('RPUSH', key, element)
  end
end
