-- rtc: the Lua half of luartc's API (the C half is rtc.core).
--
-- Tasks are coroutines. A yielding call (rtc.sleep, conn:read, rtc.tcp_connect...)
-- captures coroutine.running(), hands rtc.core a one-shot callback that resumes it,
-- and yields; the callback runs from the loop through rtc.core's pcall gate, on the
-- main thread. C never stores a coroutine. See docs/lua-api.md.
local core = require "rtc.core"

local co_create, co_resume, co_yield = coroutine.create, coroutine.resume, coroutine.yield
local co_running, co_isyieldable, co_status = coroutine.running, coroutine.isyieldable, coroutine.status
local pack, unpack, traceback = table.pack, table.unpack, debug.traceback

local rtc = {
  version = core.version,
  json = core.json,
  now = core.now,
  stop = core.stop,
}

-- {====== logging ======
local log = {}
rtc.log = log

-- log.info([tag,] fmt, ...): tag is taken from the first argument when there are
-- at least two and the first looks like a tag (letters, digits, '_', '.', '-').
local function logger(level)
  return function(a, b, ...)
    local tag, fmt
    if b ~= nil and type(a) == "string" and a:match("^[%w_.%-]+$") then
      tag, fmt = a, b
      if not core.log_enabled(level, tag) then return end
      if select("#", ...) > 0 then
        core.log(level, tag, string.format(fmt, ...))
      else
        core.log(level, tag, tostring(fmt))
      end
    else
      tag, fmt = "lua", a
      if not core.log_enabled(level, tag) then return end
      if b ~= nil or select("#", ...) > 0 then
        core.log(level, tag, string.format(fmt, b, ...))
      else
        core.log(level, tag, tostring(fmt))
      end
    end
  end
end
for _, level in ipairs { "trace", "debug", "info", "warn", "error" } do log[level] = logger(level) end
function log.set_filter(spec) return core.log_set_filter(spec) end
function log.set_format(name) return core.log_set_format(name) end
-- }======

-- {====== waking tasks ======

-- Resume a suspended coroutine from a loop callback. Tasks catch their own errors;
-- a plain coroutine that dies with an error is reported here.
local function resume(co, ...)
  local ok, err = co_resume(co, ...)
  if not ok then
    core.log("error", "lua", "coroutine error: " .. traceback(co, tostring(err)))
  end
end

-- Ready queue: wake-ups that must not run inside the current call stack (a task
-- finishing wakes its joiners on the next loop turn, not recursively).
local ready, nready = {}, 0
local idle
local function run_ready()
  local q, n = ready, nready
  ready, nready = {}, 0
  for i = 1, n, 2 do resume(q[i], q[i + 1]) end
  if nready == 0 then idle:stop() end
end
local function wake_soon(co, value)
  if not idle then idle = core.idle(run_ready) end
  if nready == 0 then idle:start() end
  ready[nready + 1], ready[nready + 2] = co, value
  nready = nready + 2
end

local function check_task(fname)
  if not co_isyieldable() then
    error(fname .. ": must be called from a task (coroutine)", 3)
  end
  return (co_running())
end

local function check_callable(fname, n, v, level)
  local t = type(v)
  if t == "function" then return end
  if t == "table" or t == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__call then return end
  end
  error(string.format("bad argument #%d to '%s' (function expected, got %s)", n, fname, t), level or 3)
end
-- }======

-- {====== tasks ======
local Task = {}
Task.__index = Task
Task.__name = "rtc.task"

local function finish(t, res, tb)
  if res[1] then
    t.status = "done"
    t.results = res
  else
    t.status = "failed"
    t.error = res[2]
    t.traceback = tb or tostring(res[2])
    if t.main then
      core.stop()
    elseif not t.joiners then
      core.report_error("task failed: " .. t.traceback)
    end
  end
  local joiners = t.joiners
  t.joiners = nil
  if joiners then
    for i = 1, #joiners do wake_soon(joiners[i], t) end
  end
end

local function spawn(fname, fn, ...)
  check_callable(fname, 1, fn, 4)
  local t = setmetatable({ status = "running" }, Task)
  local function handler(e)
    -- the frames below fn (xpcall and this file) are noise for the reader
    local tb = traceback(tostring(e), 2)
    t._tb = tb:gsub("\n\t%[C%]: in function 'xpcall'.*$", "")
    return e
  end
  t.co = co_create(function(...)
    local res = pack(xpcall(fn, handler, ...))
    finish(t, res, t._tb)
    t._tb = nil
  end)
  return t
end

--- rtc.spawn(fn, ...) -> task: runs fn(...) as a new task, now, until it first waits.
function rtc.spawn(fn, ...)
  local t = spawn("rtc.spawn", fn, ...)
  resume(t.co, ...)
  return t
end

--- task:join() -> fn's results | nil, err. Waits (yields) until the task ends.
function Task:join()
  if self.status == "running" then
    local co = check_task("task:join")
    if co == self.co then error("task:join: a task cannot join itself", 2) end
    local j = self.joiners
    if not j then j = {}; self.joiners = j end
    j[#j + 1] = co
    repeat co_yield() until self.status ~= "running"
  end
  if self.status == "done" then return unpack(self.results, 2, self.results.n) end
  return nil, self.error
end

function Task:done() return self.status ~= "running" end
function Task:__tostring() return "rtc.task (" .. self.status .. ")" end

--- rtc.wait_all(tasks) -> true | false, first_error. Waits for every task.
function rtc.wait_all(tasks)
  if type(tasks) ~= "table" then error("bad argument #1 to 'rtc.wait_all' (table expected)", 2) end
  local first_err
  for i = 1, #tasks do
    local t = tasks[i]
    if getmetatable(t) ~= Task then error("bad argument #1 to 'rtc.wait_all' (item " .. i .. " is not a task)", 2) end
    if t.status == "running" then check_task("rtc.wait_all") end
    local res = pack(t:join())
    if res[1] == nil and res.n == 2 and t.status == "failed" and first_err == nil then first_err = res[2] end
  end
  if first_err ~= nil then return false, first_err end
  return true
end

-- Used by the luartc executable: runs the script as the main task, then the loop.
function rtc._main(fn, ...)
  local t = spawn("luartc", fn, ...)
  t.main = true
  resume(t.co, ...)
  if t.status ~= "failed" then core.run() end
  if t.status == "failed" then return false, t.traceback end
  return true
end
-- }======

-- {====== time ======
--- rtc.sleep(seconds): suspends the calling task; other tasks keep running.
function rtc.sleep(seconds)
  if type(seconds) ~= "number" or seconds < 0 or seconds ~= seconds then
    error("bad argument #1 to 'rtc.sleep' (non-negative number of seconds expected)", 2)
  end
  local co = check_task("rtc.sleep")
  local done = false
  core.timer_start(seconds * 1000, 0, function() done = true; resume(co) end)
  repeat co_yield() until done
end

--- rtc.set_timeout(ms, fn) -> timer; rtc.set_interval(ms, fn) -> timer; timer:stop().
function rtc.set_timeout(ms, fn)
  if type(ms) ~= "number" then error("bad argument #1 to 'rtc.set_timeout' (number of milliseconds expected)", 2) end
  check_callable("rtc.set_timeout", 2, fn)
  return core.timer_start(ms, 0, fn)
end

function rtc.set_interval(ms, fn)
  if type(ms) ~= "number" or ms <= 0 then
    error("bad argument #1 to 'rtc.set_interval' (positive number of milliseconds expected)", 2)
  end
  check_callable("rtc.set_interval", 2, fn)
  return core.timer_start(ms, ms, fn)
end
-- }======

-- {====== loop and signals ======
--- rtc.run(): runs the loop until nothing is left to do (stock lua5.4 only; the
--- luartc executable runs it for you). Returns false when stopped by a signal.
function rtc.run() return core.run() end

local shutdown_handlers = {}
local function on_shutdown(signame)
  for i = 1, #shutdown_handlers do rtc.spawn(shutdown_handlers[i], signame) end
end

--- rtc.on("shutdown", fn): fn(signal_name) runs as a task on SIGINT/SIGTERM.
function rtc.on(event, fn)
  if event ~= "shutdown" then
    error(string.format("bad argument #1 to 'rtc.on' (unknown event '%s', expected 'shutdown')", tostring(event)), 2)
  end
  check_callable("rtc.on", 2, fn)
  shutdown_handlers[#shutdown_handlers + 1] = fn
  core.set_shutdown_handler(on_shutdown)
end
-- }======

-- {====== networking ======
local function is_ip(host)
  return type(host) == "string" and (host:match("^%d+%.%d+%.%d+%.%d+$") or host:find(":", 1, true)) ~= nil
end

--- rtc.resolve(host) -> { "ip", ... } | nil, err
function rtc.resolve(host)
  if type(host) ~= "string" then error("bad argument #1 to 'rtc.resolve' (string expected)", 2) end
  if is_ip(host) then return { host } end
  local co = check_task("rtc.resolve")
  local done, res, err = false, nil, nil
  local ok, e = core.resolve(host, function(r, e2) done, res, err = true, r, e2; resume(co) end)
  if not ok then return nil, e end
  repeat co_yield() until done
  if not res then return nil, err end
  if #res == 0 then return nil, "NotFoundError: no address for " .. host end
  return res
end

--- rtc.udp{host=, port=, reuseaddr=, ipv6only=, sndbuf=, rcvbuf=} -> sock | nil, err
function rtc.udp(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("bad argument #1 to 'rtc.udp' (table expected)", 2) end
  return core.udp_bind(opts)
end

--- rtc.tls_context{server=, cert=, key=, cert_pem=, key_pem=, ca=, ca_pem=, insecure=, alpn=}
--- -> ctx | nil, err: a TLS context for rtc.tcp_listen{tls=} (server) or rtc.tcp_connect (client)
function rtc.tls_context(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'rtc.tls_context' (table expected)", 2) end
  return core.tls_context(opts)
end

--- rtc.tcp_listen{host=, port=, backlog=, tls=ctx} -> server | nil, err
function rtc.tcp_listen(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'rtc.tcp_listen' (table expected)", 2) end
  return core.tcp_listen(opts)
end

--- rtc.tcp_connect(host, port [, opts]) -> conn | nil, err (waits)
--- opts.tls = a client context from rtc.tls_context: returns once the TLS handshake is
--- done; the certificate must match opts.servername or else `host`.
function rtc.tcp_connect(host, port, opts)
  if type(host) ~= "string" then error("bad argument #1 to 'rtc.tcp_connect' (string expected)", 2) end
  if math.type(port) ~= "integer" then error("bad argument #2 to 'rtc.tcp_connect' (integer expected)", 2) end
  local co = check_task("rtc.tcp_connect")
  local name = host
  if not is_ip(host) then
    local addrs, err = rtc.resolve(host)
    if not addrs then return nil, err end
    host = addrs[1]
  end
  local done, conn, err = false, nil, nil
  local c, e = core.tcp_connect(host, port, function(c2, e2) done, conn, err = true, c2, e2; resume(co) end, opts, name)
  if not c then return nil, e end
  repeat co_yield() until done
  return conn, err
end

-- Yielding stream methods, added next to the C ones (try_read, write_nowait...).
local S = core.methods("rtc.stream")
local linebuf = setmetatable({}, { __mode = "k" })

local function wait(self, method, fname)
  local co = check_task(fname)
  local done = false
  local ok, err = self[method](self, function() done = true; resume(co) end)
  if not ok then return nil, err end
  repeat co_yield() until done
  return true
end

--- stream:read() -> data | nil (end of stream) | nil, err
function S:read()
  local pending = linebuf[self]
  if pending then linebuf[self] = nil; return pending end
  while true do
    local d, err = self:try_read()
    if d then return d end
    if d == false then return nil end
    if err then return nil, err end
    local ok, werr = wait(self, "wait_readable", "stream:read")
    if not ok then return nil, werr end
  end
end

--- stream:read_line() -> line (without "\n" or "\r\n") | nil at the end | nil, err
function S:read_line()
  local buf = linebuf[self] or ""
  while true do
    local nl = buf:find("\n", 1, true)
    if nl then
      local line = buf:sub(1, nl - 1)
      local rest = buf:sub(nl + 1)
      linebuf[self] = rest ~= "" and rest or nil
      if line:sub(-1) == "\r" then line = line:sub(1, -2) end
      return line
    end
    linebuf[self] = nil
    local d, err = self:try_read()
    if d then
      buf = buf .. d
    elseif d == false then
      if buf ~= "" then return buf end
      return nil
    elseif err then
      if buf ~= "" then linebuf[self] = buf end
      return nil, err
    else
      linebuf[self] = buf ~= "" and buf or nil
      local ok, werr = wait(self, "wait_readable", "stream:read_line")
      if not ok then return nil, werr end
      buf = linebuf[self] or ""
    end
  end
end

--- stream:write(data) -> true | nil, err. Waits while the queue is over the high-water mark.
function S:write(data)
  if type(data) ~= "string" then error("bad argument #1 to 'write' (string expected, got " .. type(data) .. ")", 2) end
  local q, over = self:write_nowait(data)
  if q == nil then return nil, over end
  if over and co_isyieldable() then
    local ok, err = wait(self, "wait_drain", "stream:write")
    if not ok then return nil, err end
    if self:is_closed() then return nil, "InvalidStateError: stream closed while writing" end
    local _, e2 = self:write_nowait("")
    if _ == nil then return nil, e2 end
  end
  return true
end

-- stdin is created on first use; stdout writes through Lua's io (blocking, flushed).
local stdout = { write = function(self, ...)
  local ok, err = io.stdout:write(...)
  if not ok then return nil, "NetworkError: " .. tostring(err) end
  io.stdout:flush()
  return true
end }
rtc.stdout = stdout

setmetatable(rtc, { __index = function(t, k)
  if k == "stdin" then
    local s, err = core.stdin()
    if not s then error("rtc.stdin: " .. tostring(err), 2) end
    rawset(t, "stdin", s)
    return s
  end
end })
-- }======

-- For the modules below: wake a suspended task on the next loop turn through the
-- resume gate (its error is logged with a traceback, never lost).
rtc._wake_soon = wake_soon

-- Peer connections and data channels (lua/rtc/peer_connection.lua).
require("rtc.peer_connection")(rtc, core)
-- Media files and paced sources (lua/rtc/media.lua).
require("rtc.media")(rtc, core)
-- Recording peer connections with A/V sync (lua/rtc/recorder.lua).
require("rtc.recorder")(rtc, core)
-- Workers: scripts on their own threads and loops (lua/rtc/worker.lua).
require("rtc.worker")(rtc, core)

return rtc
