-- issue_tokens: start an API token family with its first access and refresh token.
-- KEYS[1]  family hash   KEYS[2] access token hash   KEYS[3] refresh token hash
-- ARGV[1]  username      ARGV[2] keyed hash of the refresh token (the family's current)
-- ARGV[3]  access token seconds   ARGV[4] refresh token seconds
-- ARGV[5]  the user's session epoch when they proved who they are
-- Reply    {"ok"} | {"token_family_exists"}
-- The family hash lives as long as the longest-lived of its tokens: every token check
-- reads the family's status, so a token must never outlive its family.
if redis.call('EXISTS', KEYS[1]) == 1 then return {'token_family_exists'} end
local access_seconds = tonumber(ARGV[3])
local refresh_seconds = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'username', ARGV[1], 'status', 'active', 'refresh', ARGV[2],
  'epoch', ARGV[5])
redis.call('EXPIRE', KEYS[1], math.max(access_seconds, refresh_seconds))
redis.call('HSET', KEYS[2], 'username', ARGV[1])
redis.call('EXPIRE', KEYS[2], access_seconds)
redis.call('HSET', KEYS[3], 'username', ARGV[1], 'used', '0')
redis.call('EXPIRE', KEYS[3], refresh_seconds)
return {'ok'}
