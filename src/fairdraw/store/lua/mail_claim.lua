-- mail_claim: take the messages that are due, for one worker.
-- KEYS[1]  due zset
-- ARGV[1]  now (ms)   ARGV[2] claimed until (ms)   ARGV[3] at most this many
-- Reply    {"ok", message id …}; each is due again at ARGV[2] unless the worker records
--          the attempt first (a worker that dies loses nothing)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], id) end
return {'ok', unpack(due)}
