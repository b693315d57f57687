-- Runs two interop peers against each other through spec/browser/pair.js, inside an
-- isolated network namespace, and returns both RESULT objects.
local M = {}

local SRC = os.getenv("RTC_SOURCE_DIR") or "."
local LUARTC = os.getenv("LUARTC") or (SRC .. "/build/luartc")
local BROWSER = SRC .. "/spec/browser"

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

M.SRC, M.LUARTC, M.BROWSER, M.quote = SRC, LUARTC, BROWSER, quote

-- Chromium and the page driver are installed (and ffmpeg too when need_ffmpeg).
function M.have_browser(need_ffmpeg)
  for _, p in ipairs { "/usr/bin/chromium", BROWSER .. "/node_modules/playwright-core/package.json" } do
    local f = io.open(p, "r")
    if not f then return false end
    f:close()
  end
  return not need_ffmpeg or os.execute("command -v ffmpeg >/dev/null 2>&1") == true
end

-- A fresh empty directory (removed with rmdir), as in spec/support/child.lua.
M.tmpdir, M.rmdir = require("support.child").tmpdir, require("support.child").rmdir

function M.luartc(args)
  local cmd = { LUARTC, SRC .. "/examples/interop_peer.lua" }
  for _, a in ipairs(args) do cmd[#cmd + 1] = a end
  return cmd
end

function M.browser(args)
  -- Sanitizer builds preload their runtime into every child; node must not get it.
  local cmd = { "env", "-u", "LD_PRELOAD", "node", BROWSER .. "/browser_peer.js" }
  for _, a in ipairs(args) do cmd[#cmd + 1] = a end
  return cmd
end

-- pair(a_cmd, b_cmd, {timeout=S, setup=SH, contract=true}) -> results {a=..., b=...},
-- full log text. setup: a shell command run inside the namespace first (e.g. iptables
-- rules). contract: a is the offerer and b the answerer of the interop peer contract,
-- enforced by pair.js (b starts first, a after b's READY); results.violations lists
-- each rule broken.
-- nat = { MODE_A, MODE_B }: each peer behind a NAT of its own ("cone", "symmetric") or
-- on the public network ("public"), with a STUN/TURN server (turn:203.0.113.1:3478,
-- user u:p) there (spec/browser/nat.sh).
function M.pair(a, b, opts)
  opts = opts or {}
  local log = os.tmpname()
  local parts
  if opts.nat then
    parts = { BROWSER .. "/isolated.sh", BROWSER .. "/nat.sh", opts.nat[1], opts.nat[2], tostring(opts.timeout or 60) }
  else
    parts = { BROWSER .. "/isolated.sh", "env", "-u", "LD_PRELOAD", "node", BROWSER .. "/pair.js",
              "--timeout", tostring(opts.timeout or 60) }
    if opts.contract then parts[#parts + 1] = "--contract" end
  end
  parts[#parts + 1] = "--"
  for _, x in ipairs(a) do parts[#parts + 1] = x end
  parts[#parts + 1] = "--"
  for _, x in ipairs(b) do parts[#parts + 1] = x end
  local q = {}
  for i, x in ipairs(parts) do q[i] = quote(x) end
  local cmd = table.concat(q, " ")
  if opts.setup then
    local inner = table.concat(q, " ", 2)
    cmd = q[1] .. " sh -c " .. quote(opts.setup .. " && " .. inner)
  end
  local p = assert(io.popen(cmd .. " 2>" .. quote(log), "r"))
  local out = p:read("a")
  p:close()
  local f = io.open(log, "r")
  local text = f and f:read("a") or ""
  if f then f:close() end
  os.remove(log)
  local rtc = require "rtc"
  local res = out:match("%b{}") and rtc.json.decode(out:match("[^\n]*"))
  if not res then
    error("pairing produced no results; log:\n" .. text:sub(-4000))
  end
  res.log = text
  return res
end

-- Fails with both RESULT objects and the tail of the log unless both peers are ok.
function M.check(res, what)
  if not (res.a and res.a.ok and res.b and res.b.ok) then
    error(what .. " failed: " .. require("rtc").json.encode({ a = res.a, b = res.b }) ..
          "\n--- log tail ---\n" .. res.log:sub(-3000), 2)
  end
end

return M
