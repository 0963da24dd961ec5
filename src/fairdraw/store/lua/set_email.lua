-- set_email: set, confirm or remove a user's e-mail address.
--
-- KEYS[1]  user hash (keys.user(username))
-- ARGV[1]  the new address, or "" to remove it
-- ARGV[2]  "1" if the address is confirmed, "0" if not
-- ARGV[3]  the address the caller expects now, or "*" for any ("" expects none)
-- ARGV[4]  the language of the account's notices (field lang), or "" to leave it
--
-- Returns {"ok", "updated", field, value, ...} with every field of the user afterwards,
-- {"ok", "missing"} if there is no such user (nothing is created), or
-- {"ok", "stale"} if the address is not the expected one (nothing is changed).
if redis.call("EXISTS", KEYS[1]) == 0 then
    return {"ok", "missing"}
end
if ARGV[3] ~= "*" and (redis.call("HGET", KEYS[1], "email") or "") ~= ARGV[3] then
    return {"ok", "stale"}
end
if ARGV[1] == "" then
    redis.call("HDEL", KEYS[1], "email", "email_confirmed")
else
    redis.call("HSET", KEYS[1], "email", ARGV[1], "email_confirmed", ARGV[2])
end
if ARGV[4] and ARGV[4] ~= "" then
    redis.call("HSET", KEYS[1], "lang", ARGV[4])
end
local reply = {"ok", "updated"}
for _, item in ipairs(redis.call("HGETALL", KEYS[1])) do
    reply[#reply + 1] = item
end
return reply
