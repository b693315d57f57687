-- Helpers for specs that run the luartc executable as a child process.
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

-- A fresh empty directory; the caller removes it with rmdir.
function M.tmpdir()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. q(dir)))
  return dir
end

function M.rmdir(dir) os.execute("rm -rf " .. q(dir)) end

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

-- A script file with `src` as its body; returns its path (caller removes it).
function M.script(src)
  local path = os.tmpname() .. ".lua"
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
  local line = text:match("\n?(%b{})%s*$")
  assert(line, "no result; output:\n" .. text)
  return require("rtc").json.decode(line), text
end

return M
