-- create_user: create an account unless the name is taken.
--
-- KEYS[1]  user hash (keys.user(username))
-- ARGV[1]  username (normalised)
-- ARGV[2]  display name
-- ARGV[3]  role
-- ARGV[4]  created ms
-- ARGV[5]  disabled ("0" or "1")
-- ARGV[6]  password hash
-- ARGV[7]  session epoch
--
-- Returns {"ok"} or {"user_exists"}. The users index lives in another slot; the caller
-- adds the name to it afterwards.
if redis.call("EXISTS", KEYS[1]) == 1 then
    return {"user_exists"}
end
redis.call(
    "HSET", KEYS[1],
    "username", ARGV[1],
    "display_name", ARGV[2],
    "role", ARGV[3],
    "created_ms", ARGV[4],
    "disabled", ARGV[5],
    "password_hash", ARGV[6],
    "session_epoch", ARGV[7]
)
return {"ok"}
