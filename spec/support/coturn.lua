-- Debian's coturn (turnserver) as a child process on 127.0.0.1, for the specs that
-- relay through a real TURN server.
--   local coturn = require "support.coturn"
--   local srv = coturn.start { users = { "alice:secret" }, realm = "luartc" }
--   -- srv.port: its UDP and TCP port; srv:log(): what it has logged so far
--   srv:stop()
-- start{} takes users (long-term credentials "name:password"), realm ("luartc" by
-- default), relay_ports (how many relay ports, 40 by default) and options (more
-- turnserver arguments, e.g. { "--use-auth-secret", "--static-auth-secret=s" }, which
-- replace the long-term credentials when no users are given). It returns once the
-- server answers a STUN Binding request, and fails with its log if it does not.
-- tls = { cert = FILE, key = FILE } also opens a TLS listener (turns:) on srv.tls_port.
local rtc = require "rtc"
local child = require "support.child"
local tmp = require "support.tmp"
local q = child.quote

local M = {}

local function free_udp_port()
  local s = assert(rtc.udp { host = "127.0.0.1", port = 0 })
  local _, port = s:local_address()
  s:close()
  return port
end

local Server = {}
Server.__index = Server

-- Everything the server has logged so far (its stdout and stderr).
function Server:log() return child.slurp(self.log_path) end

-- The last part of the log, for a failed assertion's message.
function Server:log_tail(n) return "coturn log:\n" .. self:log():sub(-(n or 3000)) end

-- Stops the server (SIGTERM, SIGKILL if it lingers); the log file stays until
-- tmp.clean(), so a teardown can still read it. Safe to call twice.
function Server:stop()
  if self.pid then child.stop(self.pid) end
  self.pid = nil
end

function M.start(opts)
  opts = opts or {}
  local port = free_udp_port()
  -- Relay ports above the kernel's ephemeral range (32768-60999), in one of 100 windows
  -- chosen by the listening port, so parallel runs and other servers rarely meet (a
  -- taken port is skipped by coturn anyway).
  local nrelay = opts.relay_ports or 40
  local minp = 61000 + (port % 100) * 40
  local args = { "-n", "--listening-ip=127.0.0.1", "--listening-port=" .. port, "--relay-ip=127.0.0.1",
                 "--min-port=" .. minp, "--max-port=" .. (minp + nrelay - 1),
                 "--realm=" .. (opts.realm or "luartc"), "--allow-loopback-peers",
                 "--no-cli", "--no-dtls",
                 -- the log goes to the captured stdout only: no turn_*.log left in /var/tmp
                 "--log-file=stdout" }
  local tls_port
  if opts.tls then
    tls_port = free_udp_port()
    args[#args + 1] = "--tls-listening-port=" .. tls_port
    args[#args + 1] = "--cert=" .. opts.tls.cert
    args[#args + 1] = "--pkey=" .. opts.tls.key
  else
    args[#args + 1] = "--no-tls"
  end
  if opts.users and #opts.users > 0 then
    args[#args + 1] = "--lt-cred-mech"
    for _, u in ipairs(opts.users) do args[#args + 1] = "--user=" .. u end
  end
  for _, o in ipairs(opts.options or {}) do args[#args + 1] = o end
  local log = tmp.file()
  args[#args + 1] = "--pidfile=" .. tmp.file(".pid")
  for i, a in ipairs(args) do args[i] = q(a) end
  local pidf = tmp.file()
  os.execute(string.format("%sturnserver %s >%s 2>&1 & echo $! >%s", child.TOOL, table.concat(args, " "),
                           q(log), q(pidf)))
  local srv = setmetatable({ port = port, tls_port = tls_port, log_path = log,
                            pid = assert(tonumber(child.slurp(pidf))) }, Server)
  -- Listening: it answers a Binding request (50 tries).
  for _ = 1, 50 do
    if child.sh(string.format("turnutils_stunclient -p %d 127.0.0.1", port), 2):find("127%.0%.0%.1:%d+") then
      return srv
    end
    if not os.execute("kill -0 " .. srv.pid .. " 2>/dev/null") then break end
    os.execute("sleep 0.05")
  end
  srv:stop()
  error("coturn did not start on 127.0.0.1:" .. port .. "\n" .. srv:log_tail(), 2)
end

return M
