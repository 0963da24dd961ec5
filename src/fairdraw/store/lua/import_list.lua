-- import_list: make a draft giveaway's imported list its sealed ledger, in one step.
-- KEYS[1]  draw meta hash   KEYS[2] the staged list (ledger elements, in order)
-- KEYS[3]  ledger list      KEYS[4] events stream
-- KEYS[5..] pairs: a staged search bucket, then the draw's bucket it becomes
-- ARGV[1]  the file's sha256 (hex)    ARGV[2] how it was read (JSON)
-- ARGV[3]  entry count      ARGV[4] seed (hex, secret until the draw)
-- ARGV[5]  commitment = sha256(seed) hex      ARGV[6] Merkle root of the staged refs
-- ARGV[7..9] (a draw that binds a beacon) the chain's genesis time and period (seconds)
--          and the margin (seconds) the bound round must lie beyond the seal
-- Reply    {"ok", replayed (1|0)} | {"draw_not_found"} | {"wrong_draw_kind"}
--          | {"invalid_transition"} | {"list_already_imported"} | {"import_expired"}
-- The draft is opened, closed and sealed at one clock reading: the staged list becomes
-- the ledger, the seed is committed and the beacon round bound as seal_draw binds it.
-- The same file read the same way again answers "replayed"; another file is refused.
-- Staged keys are removed either way (they expire anyway if this never runs).
local function drop_staged()
  redis.call('DEL', KEYS[2])
  for i = 5, #KEYS, 2 do redis.call('DEL', KEYS[i]) end
end
local m = redis.call('HMGET', KEYS[1], 'status', 'kind', 'import_sha256', 'import_options')
if not m[1] then
  drop_staged()
  return {'draw_not_found'}
end
if m[3] then
  drop_staged()
  if m[3] == ARGV[1] and m[4] == ARGV[2] then return {'ok', 1} end
  return {'list_already_imported'}
end
if m[2] ~= 'giveaway' then
  drop_staged()
  return {'wrong_draw_kind'}
end
if m[1] ~= 'draft' or redis.call('EXISTS', KEYS[3]) == 1 then
  drop_staged()
  return {'invalid_transition'}
end
if redis.call('LLEN', KEYS[2]) ~= tonumber(ARGV[3]) then
  drop_staged()
  return {'import_expired'}
end
redis.call('RENAME', KEYS[2], KEYS[3])
redis.call('PERSIST', KEYS[3])
for i = 5, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('RENAME', KEYS[i], KEYS[i + 1])
    redis.call('PERSIST', KEYS[i + 1])
  end
end
local now_ms = fd_now()
local now = string.format('%.0f', now_ms)
redis.call('HDEL', KEYS[1], 'deadline_ms', 'duration_ms', 'auto_draw')
redis.call('HSET', KEYS[1], 'status', 'closed', 'opened_ms', now, 'closed_ms', now,
  'entry_count', ARGV[3], 'seed', ARGV[4], 'commitment', ARGV[5], 'root', ARGV[6],
  'sealed_ms', now, 'source', 'list', 'import_sha256', ARGV[1], 'import_options', ARGV[2])
local round = ''
if ARGV[7] then
  local seconds = math.floor(now_ms / 1000) + tonumber(ARGV[9]) - tonumber(ARGV[7])
  local r = math.floor(seconds / tonumber(ARGV[8])) + 2
  round = string.format('%.0f', r)
  local due = string.format('%.0f', (tonumber(ARGV[7]) + (r - 1) * tonumber(ARGV[8])) * 1000)
  redis.call('HSET', KEYS[1], 'beacon_round', round, 'beacon_due_ms', due)
end
fd_event(KEYS[4], 't', 'status', 's', 'closed', 'n', ARGV[3], 'at', now)
fd_event(KEYS[4], 't', 'sealed', 'root', ARGV[6], 'n', ARGV[3], 'at', now, 'round', round)
return {'ok', 0}
