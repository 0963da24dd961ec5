-- entry_load.lua: the wrk script of bench_entries.py.
-- Every request enters a different GitHub login, b<N>, into one draw:
--   N = base + thread_index + threads * counter
-- so requests never repeat an entrant within a run, and runs with disjoint bases never
-- repeat one across runs. A login past the pre-filled profiles misses the cache and
-- fails (the benchmark points GitHub at a refusing port), which is counted, not hidden.
-- Usage: wrk -t THREADS -c CONNS -d SECS -s entry_load.lua URL -- PATH BASE THREADS
-- (PATH: /api/v1/draws/DRAW_ID/entries, or the bare app's /enter/DRAW_ID)
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
  wrk.method = "POST"
  wrk.path = args[1]
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local n = base + thread_index + stride * counter
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"github":"b' .. n .. '"}')
end

function response(status, headers, body)
  if status ~= 201 then
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
