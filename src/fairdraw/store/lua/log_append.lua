-- log_append: append one leaf to the public draw log, once per leaf id, if the log is
-- still the tree its hashes were computed from (a compare-and-set on the size and the
-- frontier: Lua has no SHA-256, so the caller hashes from the head it read and retries
-- with the head returned here).
-- KEYS[1]  head hash (size, frontier)   KEYS[2] ids hash (leaf id → index)
-- KEYS[3]  entries list                 KEYS[4 ..] level strings 0, 1, ... (one per
--          complete subtree the new leaf finishes, level 0 first)
-- ARGV[1]  leaf id "type:draw id"       ARGV[2] the entry, canonical JSON
-- ARGV[3]  the size the hashes are for  ARGV[4] the frontier they are for (hex)
-- ARGV[5]  the frontier after the append (hex)
-- ARGV[6 ..] the completed subtrees' hashes (hex), one per level key, in the same order
-- Reply    {"ok", "appended", index} | {"ok", "exists", index}: the id already has its
--          leaf (nothing is written) | {"ok", "moved", size, frontier}: the log is not
--          that tree (it grew, or was restored from elsewhere); nothing is written
-- A leaf id is looked up before the head, so a retry of an append that went through
-- returns its leaf whatever was appended since.
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {'ok', 'exists', tonumber(existing)} end
local head = redis.call('HMGET', KEYS[1], 'size', 'frontier')
local size, frontier = head[1] or '0', head[2] or ''
if size ~= ARGV[3] or frontier ~= ARGV[4] then return {'ok', 'moved', tonumber(size), frontier} end
local index = redis.call('RPUSH', KEYS[3], ARGV[2]) - 1
for i = 4, #KEYS do
  redis.call('APPEND', KEYS[i], ARGV[i + 2])
end
redis.call('HSET', KEYS[2], ARGV[1], string.format('%.0f', index))
redis.call('HSET', KEYS[1], 'size', string.format('%.0f', index + 1), 'frontier', ARGV[5])
return {'ok', 'appended', index}
