-- get_session: a session's fields, its idle timeout renewed, and the store's clock, in
-- one step on the session's own key (so on its node of a cluster).
-- KEYS[1]  session hash     ARGV[1] idle timeout (seconds)
-- Reply    {"ok", store clock (ms), field, value, ...}: no fields when there is no session
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local t = redis.call('TIME')
local reply = {'ok', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}
for i = 1, #fields do reply[#reply + 1] = fields[i] end
return reply
