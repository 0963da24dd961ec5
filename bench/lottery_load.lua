-- lottery_load.lua: the wrk script of bench_lottery.py.
-- Every request casts one ballot, POST PATH with no body, as the logged-in user whose API
-- access token is line K of TOKENS_FILE (one token per line), K rotating over the file:
--   request N = thread_index + threads * counter uses line (N mod lines) + 1
-- so consecutive requests carry different "Authorization: Bearer" headers, and every
-- token is used about as often as any other. Every response that is not 201 is counted.
-- Usage: wrk -t THREADS -c CONNS -d SECS -s lottery_load.lua URL -- PATH TOKENS_FILE THREADS
-- done() prints one line, "RESULT key=value ...", that bench/lottery_wrk.py reads.

local threads = {}
local next_index = 0

function setup(thread)
  thread:set("thread_index", next_index)
  next_index = next_index + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[2]) do
    if line ~= "" then table.insert(tokens, "Bearer " .. line) end
  end
  if #tokens == 0 then error("no token in " .. args[2]) end
  stride = tonumber(args[3])
  counter = 0
  unexpected = 0
  first_unexpected = ""
  wrk.method = "POST"
  wrk.path = args[1]
end

function request()
  local n = thread_index + stride * counter
  counter = counter + 1
  wrk.headers["Authorization"] = tokens[(n % #tokens) + 1]
  return wrk.format(nil, nil, nil, "")
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
  local issued, bad, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    issued = issued + thread:get("counter")
    bad = bad + thread:get("unexpected")
    if sample == "" then sample = thread:get("first_unexpected") end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT completed=%d duration_us=%d issued=%d non201=%d "
    .. "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d p999_us=%d mean_us=%.0f max_us=%d\n",
    summary.requests, summary.duration, issued, bad,
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.mean, latency.max))
  io.write("FIRST_UNEXPECTED " .. string.gsub(sample, "\n", " ") .. "\n")
end
