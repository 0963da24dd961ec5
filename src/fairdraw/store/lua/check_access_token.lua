#!lua flags=no-writes
-- check_access_token: the username of an access token whose family is still active.
-- KEYS[1]  family hash   KEYS[2] access token hash
-- Reply    {"ok", username} | {"invalid_token"}
-- Read-only: checking a token on every request writes nothing and creates no key.
if redis.call('HGET', KEYS[1], 'status') ~= 'active' then return {'invalid_token'} end
local username = redis.call('HGET', KEYS[2], 'username')
if not username then return {'invalid_token'} end
return {'ok', username}
