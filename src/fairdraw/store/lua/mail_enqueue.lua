-- mail_enqueue: queue one e-mail notice, once.
-- KEYS[1]  message hash   KEYS[2] due zset
-- ARGV[1]  message id   ARGV[2] now (ms)   ARGV[3] how long the message is kept (ms)
-- ARGV[4..] the message's fields, name, value … (kind, draw, username, to, subject, text)
-- Reply    {"ok", 1} when queued; {"ok", 0} when the message exists already (the draw
--          was announced before, or the confirmation was sent in this window)
if redis.call('EXISTS', KEYS[1]) == 1 then return {'ok', 0} end
redis.call('HSET', KEYS[1], 'status', 'pending', 'attempts', 0, 'created_ms', ARGV[2],
  unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return {'ok', 1}
