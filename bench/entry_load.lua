-- entry_load.lua: the wrk script of bench_entries.py, bench_raffle.py and bench_lottery.py.
-- Every request is a different participant N:
--   N = base + thread_index + threads * counter
-- so requests never repeat one within a run, and runs with disjoint bases never repeat
-- one across runs.
-- LOAD "entries" (the default): the request enters GitHub login b<N> into one draw. A
-- login past the pre-filled profiles misses the cache and fails (the benchmark points
-- GitHub at a refusing port), which is counted, not hidden.
-- LOAD "claims": the request claims a raffle ticket, with no body, from the client
-- address 10.0.0.0 + N named in X-Forwarded-For (the server trusts its loopback peer as
-- a proxy), so that every claim comes from a different anonymous claimant.
-- LOAD "seed": the request enters login b<N> into the seed app (bench/seed_app.py) with
-- GET PATH..b<N>, and succeeds with 200, not 201.
-- LOAD "ballots": the request casts a lottery ballot, with no body, as the logged-in
-- user whose API access token is line (N mod lines) + 1 of TOKENS_FILE (one per line), so
-- consecutive requests carry different "Authorization: Bearer" headers.
-- Usage: wrk -t THREADS -c CONNS -d SECS -s entry_load.lua URL -- PATH BASE THREADS
--        [LOAD [TOKENS_FILE]]
-- (PATH: /api/v1/draws/DRAW_ID/entries, /api/v1/draws/DRAW_ID/tickets or
-- /api/v1/lotteries/LOTTERY_ID/ballots, the bare app's /enter/DRAW_ID or /claim/DRAW_ID, or
-- the seed app's /enter/)
-- done() prints one line, "RESULT key=value ...", that bench/wrk.py reads.

local threads = {}
local next_index = 0

function setup(thread)
  thread:set("thread_index", next_index)
  next_index = next_index + 1
  table.insert(threads, thread)
end

function init(args)
  base = tonumber(args[2])
  stride = tonumber(args[3])
  counter = 0
  unexpected = 0
  first_unexpected = ""
  load = args[4] or "entries"
  wrk.method = "POST"
  wrk.path = args[1]
  expected = 201
  if load == "seed" then
    wrk.method = "GET"
    expected = 200
  end
  if load == "entries" then wrk.headers["Content-Type"] = "application/json" end
  tokens = {}
  if load == "ballots" then
    for line in io.lines(args[5]) do
      if line ~= "" then table.insert(tokens, "Bearer " .. line) end
    end
    if #tokens == 0 then error("no token in " .. args[5]) end
  end
end

-- 10.0.0.0 + n as a dotted IPv4 address (n < 2^24 stays in 10/8).
local first_address = 167772160

local function address(n)
  local a = first_address + n
  return string.format("%d.%d.%d.%d", math.floor(a / 16777216) % 256,
    math.floor(a / 65536) % 256, math.floor(a / 256) % 256, a % 256)
end

function request()
  local n = base + thread_index + stride * counter
  counter = counter + 1
  if load == "claims" then
    wrk.headers["X-Forwarded-For"] = address(n)
    return wrk.format(nil, nil, nil, "")
  end
  if load == "ballots" then
    wrk.headers["Authorization"] = tokens[(n % #tokens) + 1]
    return wrk.format(nil, nil, nil, "")
  end
  if load == "seed" then
    return wrk.format(nil, wrk.path .. "b" .. n)
  end
  return wrk.format(nil, nil, nil, '{"github":"b' .. n .. '"}')
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if first_unexpected == "" then
      first_unexpected = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local issued, bad, sample, next_base = 0, 0, "", 0
  for _, thread in ipairs(threads) do
    local count = thread:get("counter")
    issued = issued + count
    bad = bad + thread:get("unexpected")
    if sample == "" then sample = thread:get("first_unexpected") end
    local last = thread:get("base") + thread:get("thread_index") + thread:get("stride") * count
    if last > next_base then next_base = last end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT completed=%d duration_us=%d issued=%d next_base=%d non201=%d "
    .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d p999_us=%d mean_us=%.0f max_us=%d\n",
    summary.requests, summary.duration, issued, next_base, bad,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max))
  io.write("FIRST_UNEXPECTED " .. string.gsub(sample, "\n", " ") .. "\n")
end
