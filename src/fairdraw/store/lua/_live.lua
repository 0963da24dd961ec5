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
