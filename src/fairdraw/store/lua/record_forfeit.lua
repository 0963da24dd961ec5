-- record_forfeit: append one substitution (forfeit and promote) to a drawn draw, once
-- per forfeited entry, if the draw's substitutions are still the ones it was computed
-- from (a compare-and-set on their number: the rule that picks the promoted alternate
-- depends on every earlier substitution).
-- KEYS[1]  draw meta hash   KEYS[2] substitutions list   KEYS[3] events stream
-- ARGV[1]  the forfeited entry's index (decimal)
-- ARGV[2]  how many substitutions it was computed from
-- ARGV[3]  the substitution, canonical JSON (its "forfeited" object first names the index)
-- Reply    {"ok", "recorded", position} | {"ok", "exists", position, substitution}: this
--          entry already forfeited (nothing is written) | {"ok", "moved", count}: another
--          substitution came first; recompute from the list | {"draw_not_found"}
--          | {"invalid_transition"}: the draw is not drawn
-- A recorded substitution is announced (event "forfeit", with its position) in the same
-- step, so open pages show the promoted alternate; the stream keeps the drawn draw's TTL.
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'draw_not_found'} end
if status ~= 'drawn' then return {'invalid_transition'} end
local subs = redis.call('LRANGE', KEYS[2], 0, -1)
local wanted = tonumber(ARGV[1])
for i, text in ipairs(subs) do
  if cjson.decode(text)['forfeited']['index'] == wanted then
    return {'ok', 'exists', i - 1, text}
  end
end
if #subs ~= tonumber(ARGV[2]) then return {'ok', 'moved', #subs} end
local position = redis.call('RPUSH', KEYS[2], ARGV[3]) - 1
fd_event(KEYS[3], 't', 'forfeit', 'p', position, 'at', string.format('%.0f', fd_now()))
redis.call('PEXPIRE', KEYS[3], EVENTS_TTL_MS)
return {'ok', 'recorded', position}
