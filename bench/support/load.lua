-- wrk script for bench/api_load.py: many members, optional pacing, optional upload body.
--
-- wrk ... -s load.lua URL -- key=value ...
--   members=FILE   lines "session-token<TAB>generation-id": each request is the next member's
--                  (tokens rotate, so per-user throttles and caches see a crowd, not one user)
--   path=PATH      request path; "{id}" becomes that member's generation id
--   rate=N         requests per second for this thread; needs BENCH_WRK_PACED=1 in the
--                  environment (wrk decides whether delay() exists before it reads args)
--   method=M       GET (default) or POST
--   body=FILE      request body (sent with content_type=...)
--   content_type=  the body's Content-Type
--   nonce=S        POSTs carry Idempotency-Key "S-<thread>-<n>": unique, so none replays
--
-- Pacing is open-loop per thread (wrk2-style schedule without its latency correction):
-- request k is due at start + k/rate; delay() waits until then, or not at all when the
-- server is behind. Latency is measured by wrk from the moment a request is written.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

local members, path, method, body, content_type, nonce
local interval, due = nil, nil
local n = 0

function init(args)
  local opts = {}
  for _, arg in ipairs(args) do
    local key, value = arg:match("^([%w_]+)=(.*)$")
    if key then opts[key] = value end
  end
  members = {}
  if opts.members then
    for line in io.lines(opts.members) do
      local token, id = line:match("^(%S+)\t(%S+)$")
      if token then table.insert(members, { token = token, id = id }) end
    end
  end
  path = opts.path or "/"
  method = opts.method or "GET"
  content_type = opts.content_type
  nonce = opts.nonce or "bench"
  if opts.body then
    local file = assert(io.open(opts.body, "rb"))
    body = file:read("*a")
    file:close()
  end
  local rate = tonumber(opts.rate or "0")
  if rate > 0 then interval = 1000 / rate end
  -- threads start at different members so they don't walk the list in step
  n = (thread_id or 1) * 7919
end

if os.getenv("BENCH_WRK_PACED") == "1" then
  -- only defined when pacing: without delay() wrk sends back to back, with no timer
  function delay()
    if not interval then return 0 end
    local now = now_ms()
    if due == nil then due = now end
    local wait = due - now
    due = due + interval
    if wait <= 0 then return 0 end
    return wait
  end
end

function request()
  n = n + 1
  local headers = {}
  local p = path
  if #members > 0 then
    local member = members[(n % #members) + 1]
    headers["X-Session-Token"] = member.token
    p = p:gsub("{id}", member.id)
  end
  if body then
    headers["Content-Type"] = content_type
    headers["Idempotency-Key"] = string.format("%s-%d-%d", nonce, thread_id or 0, n)
  end
  return wrk.format(method, p, headers, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "BENCH p95_us=%d p50_us=%d p99_us=%d rps=%.1f requests=%d errors=%d\n",
    latency:percentile(95), latency:percentile(50), latency:percentile(99),
    summary.requests / (summary.duration / 1e6), summary.requests,
    errors.status + errors.connect + errors.read + errors.write + errors.timeout))
end
