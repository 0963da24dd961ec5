-- reveal_step: move a drawn draw's presentation to reveal step ARGV[1].
-- KEYS[1]  draw meta hash   KEYS[2] events stream
-- ARGV[1]  step: 0 (nothing revealed) .. ARGV[2] (every prize revealed: the summary)
-- ARGV[2]  the last step (the number of prize slots)
-- Reply    {"ok", step, changed (1|0)} | {"draw_not_found"} | {"invalid_transition"}
-- The step is absolute, so a repeated or reordered request cannot skip a prize; a step
-- that changes is announced (event "reveal") in the same step. The result itself is
-- fixed: this only records how much of it the presenter has shown.
local m = redis.call('HMGET', KEYS[1], 'status', 'reveal')
if not m[1] then return {'draw_not_found'} end
if m[1] ~= 'drawn' then return {'invalid_transition'} end
local step = tonumber(ARGV[1])
if step < 0 or step > tonumber(ARGV[2]) then return {'invalid_transition'} end
if m[2] and tonumber(m[2]) == step then return {'ok', step, 0} end
local now = string.format('%.0f', fd_now())
redis.call('HSET', KEYS[1], 'reveal', step)
fd_event(KEYS[2], 't', 'reveal', 'step', step, 'at', now)
return {'ok', step, 1}
