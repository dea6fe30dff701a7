-- wrk script for bench/ingest.py: cycles through pre-signed requests, one per line of the file
-- "<auth header value>\t<body>", each wrk thread taking every n-th line so no two threads send the
-- same delivery. Args: <file> <threads> <auth header name>. Prints a JSON summary at the end.
local tid_seq = 0
function setup(thread)
  thread:set("tid", tid_seq)
  tid_seq = tid_seq + 1
end

local reqs = {}
local counter = 1
function init(args)
  local nthreads, header = tonumber(args[2]), args[3]
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      local tab = line:find("\t", 1, true)
      reqs[#reqs + 1] = wrk.format("POST", nil,
        {["Content-Type"] = "application/json", [header] = line:sub(1, tab - 1)}, line:sub(tab + 1))
    end
    i = i + 1
  end
end

function request()
  local r = reqs[counter]
  counter = counter + 1
  if counter > #reqs then counter = 1 end
  return r
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
