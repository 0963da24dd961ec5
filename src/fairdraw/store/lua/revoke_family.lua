-- revoke_family: revoke the token family of a token that its holder presents.
-- KEYS[1]  family hash
-- KEYS[2]  access token hash, KEYS[3] refresh token hash: both named after the
--          presented token's keyed hash, since the caller cannot tell its kind
-- Reply    {"ok", revoked (1|0)}
-- Only a real token of the family (access, refresh, or an already used refresh token)
-- revokes it, so knowing a family id alone is not enough. 0: the family was already
-- revoked or expired, or the token is not one of its. The family hash keeps its expiry,
-- so every token of it stays refused for as long as it would have worked.
if redis.call('EXISTS', KEYS[2], KEYS[3]) == 0 then return {'ok', 0} end
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return {'ok', 0} end
redis.call('HSET', KEYS[1], 'status', 'revoked')
return {'ok', 1}
