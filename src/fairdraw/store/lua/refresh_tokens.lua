-- refresh_tokens: trade a family's current refresh token for a new access and refresh
-- token, or revoke the family when the presented refresh token was already used.
-- KEYS[1]  family hash   KEYS[2] presented refresh token hash
-- KEYS[3]  new access token hash   KEYS[4] new refresh token hash
-- ARGV[1]  keyed hash of the presented refresh token
-- ARGV[2]  keyed hash of the new refresh token
-- ARGV[3]  access token seconds   ARGV[4] refresh token seconds
-- Reply    {"ok", "rotated" | "reused", username, session epoch} | {"invalid_token"}
-- A refresh token works once. A used one presented again means that two parties hold
-- it and nobody can tell which is the thief, so the whole family is revoked: every
-- check reads the family's status, so all its tokens stop working at once. Reuse is
-- answered "ok" because the revocation is this script's stored outcome; the caller
-- then refuses the request. A used token keeps its own expiry (it is marked, not
-- deleted), so that reuse is detected for as long as the token would have worked.
local family = redis.call('HMGET', KEYS[1], 'username', 'status', 'refresh', 'epoch')
if not family[1] or family[2] ~= 'active' then return {'invalid_token'} end
local used = redis.call('HGET', KEYS[2], 'used')
if not used then return {'invalid_token'} end
if used ~= '0' or family[3] ~= ARGV[1] then
  redis.call('HSET', KEYS[1], 'status', 'revoked')
  return {'ok', 'reused', family[1], family[4]}
end
local access_seconds = tonumber(ARGV[3])
local refresh_seconds = tonumber(ARGV[4])
redis.call('HSET', KEYS[2], 'used', '1')
redis.call('HSET', KEYS[1], 'refresh', ARGV[2])
redis.call('EXPIRE', KEYS[1], math.max(access_seconds, refresh_seconds))
redis.call('HSET', KEYS[3], 'username', family[1])
redis.call('EXPIRE', KEYS[3], access_seconds)
redis.call('HSET', KEYS[4], 'username', family[1], 'used', '0')
redis.call('EXPIRE', KEYS[4], refresh_seconds)
return {'ok', 'rotated', family[1], family[4]}
