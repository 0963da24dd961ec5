-- set_password: replace a user's password hash, optionally ending all their sessions.
--
-- KEYS[1]  user hash (keys.user(username))
-- ARGV[1]  new password hash
-- ARGV[2]  the hash the caller expects to replace, or "" to replace any
-- ARGV[3]  "1" to end every session and API token of the user (increments
--          session_epoch), "0" to leave them alone
--
-- Returns {"ok", "updated", epoch} with the user's session epoch afterwards,
-- {"ok", "missing"} if there is no such user (nothing is created), or
-- {"ok", "stale"} if the stored hash is not the expected one (nothing is changed).
if redis.call("EXISTS", KEYS[1]) == 0 then
    return {"ok", "missing"}
end
if ARGV[2] ~= "" and redis.call("HGET", KEYS[1], "password_hash") ~= ARGV[2] then
    return {"ok", "stale"}
end
redis.call("HSET", KEYS[1], "password_hash", ARGV[1])
local epoch = tonumber(redis.call("HGET", KEYS[1], "session_epoch") or "0")
if ARGV[3] == "1" then
    epoch = redis.call("HINCRBY", KEYS[1], "session_epoch", 1)
end
return {"ok", "updated", tostring(epoch)}
