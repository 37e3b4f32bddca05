-- wrk script: post each prepared request exactly once, then report what the service answered.
--
-- Usage: wrk -t T -c C -s webhooks.lua URL -- <requests file> <T> <path> <done dir>
-- The file holds "<body length> <header count>\n", that many "Name: value\n" lines, then the
-- body (signed_events.write_for_wrk): signed webhooks, or checkouts with their own headers.
-- A webhook answer counts by its "status" (processed, received, duplicate, other), a 201 as
-- created.
-- Thread i of T takes records i, i+T, i+2T, ... so every record is posted once in all.
--
-- wrk must always send something: once a thread's records run out, its idle connections send
-- GET /health every 50 ms (answered {"status": "ok"}, not counted) until every webhook it sent
-- has been answered; then it leaves a file named after itself in <done dir> and stops. wrk
-- itself runs for its whole --duration, so the caller interrupts it (SIGINT) once every thread
-- is done, and the elapsed time is measured here: first webhook sent to last one answered.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1

local function now_us()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file, thread_count, path = args[1], tonumber(args[2]), args[3]
  done_marker = args[4] .. "/" .. id
  queue = {}
  local f = assert(io.open(file, "rb"))
  local index = 0
  while true do
    local line = f:read("*l")
    if line == nil then break end
    local length, count = line:match("^(%d+) (%d+)$")
    local headers = {}
    for _ = 1, tonumber(count) do
      local name, value = f:read("*l"):match("^([^:]+): (.*)$")
      headers[name] = value
    end
    local body = f:read(tonumber(length))
    if index % thread_count == id then
      queue[#queue + 1] = wrk.format("POST", path, headers, body)
    end
    index = index + 1
  end
  f:close()
  probe = wrk.format("GET", "/health")
  assigned = #queue
  position = 1
  answered = 0
  probes = 0
  -- wrk calls request() once on thread 0 before connecting, to learn the pipeline depth, and
  -- throws the answer away: that call must not use up a webhook.
  verifying = id == 0
  first_us = 0
  last_us = 0
  processed = 0
  received = 0
  created = 0
  duplicate = 0
  other = 0
  failed = 0
end

function request()
  if verifying then
    verifying = false
    return probe
  end
  if position <= assigned then
    if position == 1 then
      first_us = now_us()
    end
    local r = queue[position]
    queue[position] = nil
    position = position + 1
    return r
  end
  probes = probes + 1
  return probe
end

function delay()
  if position <= assigned then
    return 0
  end
  return 50
end

function response(status, headers, body)
  local answer = body:match('"status"%s*:%s*"(%a+)"')
  if status == 200 and answer == "ok" then
    return
  end
  answered = answered + 1
  if status == 201 then
    created = created + 1
  elseif status ~= 200 then
    failed = failed + 1
  elseif answer == "processed" then
    processed = processed + 1
  elseif answer == "received" then
    received = received + 1
  elseif answer == "duplicate" then
    duplicate = duplicate + 1
  else
    other = other + 1
  end
  if answered >= assigned then
    last_us = now_us()
    local marker = assert(io.open(done_marker, "w"))
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local totals = { assigned = 0, answered = 0, probes = 0, processed = 0, received = 0,
                   created = 0, duplicate = 0, other = 0, failed = 0 }
  local first, last = nil, 0
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    local started, finished = thread:get("first_us"), thread:get("last_us")
    if started > 0 and (first == nil or started < first) then
      first = started
    end
    if finished == 0 then
      last = now_us()  -- a thread that never finished: count until now
    elseif finished > last then
      last = finished
    end
  end
  local elapsed = first and (last - first) or summary.duration
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us": %d, "first_us": %d, "last_us": %d, "requests": %d, ' ..
    '"assigned": %d, "answered": %d, ' ..
    '"probes": %d, "processed": %d, "received": %d, "created": %d, "duplicate": %d, ' ..
    '"other": %d, "failed": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    math.floor(elapsed), math.floor(first or 0), math.floor(last), summary.requests,
    totals.assigned, totals.answered, totals.probes,
    totals.processed, totals.received, totals.created, totals.duplicate, totals.other,
    totals.failed,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
