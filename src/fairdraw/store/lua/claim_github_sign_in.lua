-- claim_github_sign_in: take a GitHub sign-in's state for its callback, once.
-- KEYS[1]  the sign-in hash (draw, browser, used, index)
-- ARGV[1]  sha256 (hex) of the sign-in cookie of the browser that came back
-- Reply    {"ok", "fresh", draw}         first callback: the sign-in is now used
--          {"ok", "used", draw, index}   a callback again (index "" while the first runs)
--          {"ok", "other_browser"}       begun in another browser: nothing changes
--          {"ok", "missing"}             unknown or expired
local sign_in = redis.call('HMGET', KEYS[1], 'draw', 'browser', 'used', 'index')
if not sign_in[1] then return {'ok', 'missing'} end
if sign_in[2] ~= ARGV[1] then return {'ok', 'other_browser'} end
if sign_in[3] then return {'ok', 'used', sign_in[1], sign_in[4] or ''} end
redis.call('HSET', KEYS[1], 'used', '1')
return {'ok', 'fresh', sign_in[1]}
