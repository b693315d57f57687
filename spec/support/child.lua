-- Helpers for specs that run the luartc executable as a child process.
local tmp = require "support.tmp"
local M = {}

M.LUARTC = os.getenv("LUARTC") or "luartc"
M.SOURCE_DIR = os.getenv("RTC_SOURCE_DIR") or "."

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.quote = q

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end
M.slurp = slurp

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end
M.write = write

-- run{args..., stdin = "text", env = "VAR=x", exe = "cmd | luartc"} -> code, stdout, stderr
function M.run(opts)
  local out, err, inp = os.tmpname(), os.tmpname(), os.tmpname()
  write(inp, opts.stdin or "")
  local parts = {}
  for i = 1, #opts do parts[i] = q(opts[i]) end
  -- opts.exe may be a shell pipeline ending in the executable ("printf x | luartc"):
  -- then stdin comes from the pipe, not from opts.stdin.
  local redirect = opts.exe and opts.exe:find("|", 1, true) and "" or ("<" .. q(inp))
  local cmd = string.format("%s %s %s %s >%s 2>%s", opts.env or "", opts.exe or q(M.LUARTC),
                            table.concat(parts, " "), redirect, q(out), q(err))
  local ok, how, code = os.execute(cmd)
  local so, se = slurp(out), slurp(err)
  os.remove(out); os.remove(err); os.remove(inp)
  if how == "signal" then code = 128 + code end
  return code, so, se
end

-- A fresh empty directory; the caller removes it with rmdir (or leaves it to tmp.clean).
M.tmpdir = tmp.dir

function M.rmdir(dir) os.execute("rm -rf " .. q(dir)) end

-- External tools (coturn and its clients, node, Chromium, tshark) run without the
-- sanitizer runtimes a sanitizer build preloads into this process for our module.
M.TOOL = "env -u LD_PRELOAD "

-- Runs shell command cmd as an external tool, killed after limit seconds (30 by
-- default); returns what it printed, stdout and stderr together.
function M.sh(cmd, limit)
  local out = tmp.file()
  os.execute(string.format("(%stimeout %d %s) >%s 2>&1", M.TOOL, limit or 30, cmd, q(out)))
  return slurp(out)
end

local function alive(pid) return os.execute("kill -0 " .. pid .. " 2>/dev/null") end

-- SIGTERM to pid, then up to wait_s seconds (3 by default) for it to exit (SIGKILL
-- after that); returns whether it exited by itself.
function M.stop(pid, wait_s)
  os.execute("kill -TERM " .. pid .. " 2>/dev/null")
  for _ = 1, (wait_s or 3) * 100 do
    if not alive(pid) then return true end
    os.execute("sleep 0.01")
  end
  os.execute("kill -9 " .. pid .. " 2>/dev/null")
  return false
end

-- Starts shell command cmd in the background, its stdout and stderr going to temporary
-- files (support.tmp's), and waits up to wait_s seconds (10 by default) for its stdout
-- to match the Lua pattern `ready`. Returns { pid =, out =, err =, ready = {captures} }
-- (out and err are the files' paths); fails with its stderr when it exits or does not
-- get ready in time (it is stopped then).
function M.start(cmd, ready, wait_s)
  local out, err, pidf = tmp.file(), tmp.file(), tmp.file()
  os.execute(string.format("%s >%s 2>%s & echo $! >%s", cmd, q(out), q(err), q(pidf)))
  local pid = assert(tonumber(slurp(pidf)), "no pid: " .. cmd)
  for _ = 1, (wait_s or 10) * 100 do
    local caps = table.pack(slurp(out):match(ready))
    if caps[1] then return { pid = pid, out = out, err = err, ready = caps } end
    if not alive(pid) then break end
    os.execute("sleep 0.01")
  end
  M.stop(pid)
  error("did not start: " .. cmd .. "\n" .. slurp(err) .. slurp(out):sub(-2000), 2)
end

-- SIGINT to pid, then up to 5 s for it to exit by itself (SIGKILL after that);
-- returns whether it did.
function M.interrupt(pid)
  os.execute("kill -INT " .. pid)
  for _ = 1, 50 do
    if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then return true end
    os.execute("sleep 0.1")
  end
  os.execute("kill -KILL " .. pid)
  return false
end

-- A script file with `src` as its body; returns its path (caller removes it, or leaves
-- it to tmp.clean, which also removes the empty file that reserved its name).
function M.script(src)
  local path = tmp.file(".lua")
  write(path, src)
  return path
end

-- Runs Lua source src under luartc (killed after timeout_s, 30 by default) with args;
-- spec/'s modules (support.*) are on its path. Returns the JSON object its output ends
-- with, decoded, and the whole output; fails with the output when there is none.
function M.run_json(src, args, timeout_s)
  local path = M.script(src)
  local parts = {}
  for i, a in ipairs(args or {}) do parts[i] = q(a) end
  local lua_path = M.SOURCE_DIR .. "/spec/?.lua;" .. (os.getenv("LUA_PATH") or ";")
  local p = assert(io.popen(string.format("LUA_PATH=%s timeout %d %s %s %s 2>&1", q(lua_path), timeout_s or 30,
                                          q(M.LUARTC), q(path), table.concat(parts, " "))))
  local text = p:read("a")
  p:close()
  os.remove(path)
  os.remove((path:gsub("%.lua$", "")))   -- the empty file that reserved the name
  local line = text:match("\n?(%b{})%s*$")
  assert(line, "no result; output:\n" .. text)
  return require("rtc").json.decode(line), text
end

return M
