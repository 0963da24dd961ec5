-- update_user: change a user's role and/or disabled flag, if they are still as expected.
--
-- KEYS[1]  user hash (keys.user(username))
-- ARGV[1]  new role, or "" to keep it
-- ARGV[2]  new disabled flag ("0" or "1"), or "" to keep it
-- ARGV[3]  the role the caller expects now, or "" for any
-- ARGV[4]  the disabled flag the caller expects now, or "" for any
--
-- Disabling an enabled user increments its session_epoch, so that the sessions and API
-- tokens it had stay ended after it is enabled again.
--
-- Returns {"ok", "updated", field, value, ...} with every field of the user afterwards,
-- {"ok", "missing"} if there is no such user (nothing is created), or
-- {"ok", "stale"} if the role or flag is not the expected one (nothing is changed).
if redis.call("EXISTS", KEYS[1]) == 0 then
    return {"ok", "missing"}
end
local current = redis.call("HMGET", KEYS[1], "role", "disabled")
if (ARGV[3] ~= "" and current[1] ~= ARGV[3]) or (ARGV[4] ~= "" and current[2] ~= ARGV[4]) then
    return {"ok", "stale"}
end
if ARGV[1] ~= "" then
    redis.call("HSET", KEYS[1], "role", ARGV[1])
end
if ARGV[2] ~= "" then
    if ARGV[2] == "1" and current[2] ~= "1" then
        redis.call("HINCRBY", KEYS[1], "session_epoch", 1)
    end
    redis.call("HSET", KEYS[1], "disabled", ARGV[2])
end
local reply = {"ok", "updated"}
for _, item in ipairs(redis.call("HGETALL", KEYS[1])) do
    reply[#reply + 1] = item
end
return reply
