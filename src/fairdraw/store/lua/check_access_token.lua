#!lua flags=no-writes
-- check_access_token: who an access token acts for, if its family is still active.
-- KEYS[1]  family hash   KEYS[2] access token hash
-- Reply    {"ok", username, session epoch} | {"invalid_token"}
-- Read-only: checking a token on every request writes nothing and creates no key.
local family = redis.call('HMGET', KEYS[1], 'status', 'epoch')
if family[1] ~= 'active' then return {'invalid_token'} end
local username = redis.call('HGET', KEYS[2], 'username')
if not username then return {'invalid_token'} end
return {'ok', username, family[2]}
