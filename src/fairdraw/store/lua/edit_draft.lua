-- edit_draft: replace a draft's settings, only while it is still a draft.
-- KEYS[1]  draw meta hash
-- ARGV[1]  n, the number of settings to remove (those the edited draft no longer has)
-- ARGV[2..n+1]  their field names; then field, value, field, value, ... (settings to set)
-- Reply    {"ok"} | {"draw_not_found"} | {"invalid_transition"}
-- Checking the status and writing are one step, so an edit racing the draft's opening
-- either lands before it opens or changes nothing.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'draw_not_found'} end
if status ~= 'draft' then return {'invalid_transition'} end
local cleared = tonumber(ARGV[1])
if cleared > 0 then
  redis.call('HDEL', KEYS[1], unpack(ARGV, 2, cleared + 1))
end
if #ARGV > cleared + 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV, cleared + 2))
end
return {'ok'}
