-- icetest.lua: gather ICE candidates against STUN/TURN servers and say whether each works.
--   luartc tools/icetest.lua --server turn:host:3478?transport=udp --user U --pass P
--       [--server URL ...] [--secret S | --secret-file PATH] [--rest-user NAME] [--ttl S]
--       [--timeout S] [--bind IP ...] [--ca-file PATH] [--json]
-- Each server gets its own peer connection, so one server's result never hides behind
-- another's. Prints every candidate as it comes and every error, then one line per
-- server; exits 0 when every server worked, 1 when one failed, 2 on a usage error.
-- docs/tools.md has the details and a transcript.
local rtc = require "rtc"

-- the tool reports failures itself; RTC_LOG still shows the engine's lines
if not os.getenv("RTC_LOG") then rtc.log.set_filter("off") end

local USAGE = [[
usage: luartc tools/icetest.lua --server URL [--server URL ...] [options]
  --server URL        stun:host[:port], turn:host[:port][?transport=udp|tcp] or
                      turns:host[:port] (TURN over TLS, port 5349) (repeatable)
  --user U --pass P   TURN long-term credentials
  --secret S          TURN REST shared secret: credentials are derived from it
  --secret-file PATH  the same, read from a file (first line), kept off the command line
  --rest-user NAME    the user part of a TURN REST username (default "icetest")
  --ttl S             lifetime of TURN REST credentials (default 3600)
  --timeout S         give up on a server after S seconds (default 10)
  --bind IP           gather from this local address only (repeatable)
  --ca-file PATH      turns: trust these CA certificates (PEM) instead of the system's
  --json              one JSON object a line instead of text
]]

local function usage_error(msg)
  io.stderr:write("icetest: ", msg, "\n", USAGE)
  os.exit(2)
end

local opts = { servers = {}, bind = {}, timeout = 10, ttl = 3600, rest_user = "icetest" }
do
  local i = 1
  local function value(name)
    i = i + 1
    if arg[i] == nil then usage_error("missing value for " .. name) end
    return arg[i]
  end
  local function number(name)
    local v = tonumber(value(name))
    if not v or v <= 0 then usage_error(name .. " wants a positive number") end
    return v
  end
  while i <= #arg do
    local a = arg[i]
    if a == "--server" then opts.servers[#opts.servers + 1] = value(a)
    elseif a == "--user" then opts.user = value(a)
    elseif a == "--pass" then opts.pass = value(a)
    elseif a == "--secret" then opts.secret = value(a)
    elseif a == "--secret-file" then
      local path = value(a)
      local f, err = io.open(path, "rb")
      if not f then usage_error("cannot read the secret: " .. tostring(err)) end
      opts.secret = (f:read("l") or ""):gsub("%s+$", "")
      f:close()
      if opts.secret == "" then usage_error("the secret file " .. path .. " is empty") end
    elseif a == "--rest-user" then opts.rest_user = value(a)
    elseif a == "--ttl" then opts.ttl = math.floor(number(a))
    elseif a == "--timeout" then opts.timeout = number(a)
    elseif a == "--bind" then opts.bind[#opts.bind + 1] = value(a)
    elseif a == "--ca-file" then opts.ca_file = value(a)
    elseif a == "--json" then opts.json = true
    elseif a == "-h" or a == "--help" then io.stdout:write(USAGE); os.exit(0)
    else usage_error("unknown option " .. a) end
    i = i + 1
  end
  if #opts.servers == 0 then usage_error("give at least one --server") end
  if opts.secret and (opts.user or opts.pass) then usage_error("--secret and --user/--pass exclude each other") end
  if (opts.user == nil) ~= (opts.pass == nil) then usage_error("--user and --pass go together") end
end

if opts.secret then
  local turn = require "turn"
  opts.user, opts.pass = turn.rest_credentials(opts.secret, opts.rest_user, opts.ttl)
end

local t0 = rtc.now()
local function elapsed_ms() return math.floor(rtc.now() - t0 + 0.5) end

-- {====== output ======
local function emit(rec)
  if opts.json then
    rtc.stdout:write(rtc.json.encode(rec), "\n")
    return
  end
  local line
  if rec.event == "candidate" then
    line = string.format("%-40s %6d ms  %-5s %-3s %s %d priority %d%s", rec.server, rec.ms, rec.type,
                         rec.protocol, rec.address, rec.port, rec.priority,
                         rec.relay_protocol and (" via " .. rec.relay_protocol) or "")
  elseif rec.event == "error" then
    line = string.format("%-40s %6d ms  error %s%s", rec.server, rec.ms,
                         rec.code and (rec.code .. " ") or "", rec.text)
  elseif rec.event == "result" then
    line = string.format("%s: %s%s", rec.server, rec.ok and "ok" or "failed",
                         rec.ok and string.format(" (%s %s:%d%s in %d ms)", rec.type, rec.address, rec.port,
                                                  rec.relay_protocol and (" via " .. rec.relay_protocol) or "", rec.ms)
                                or (": " .. rec.reason))
  end
  rtc.stdout:write(line, "\n")
end
-- }======

-- "candidate:f 1 udp 2130706431 127.0.0.1 5000 typ host ..." -> fields
local function parse_candidate(s)
  local proto, prio, addr, port, typ = s:match("^candidate:%S+ %d+ (%S+) (%d+) (%S+) (%d+) typ (%S+)")
  if not proto then return nil end
  return { protocol = proto:lower(), priority = math.tointeger(tonumber(prio)), address = addr,
           port = math.tointeger(tonumber(port)), type = typ }
end

-- One server: gathers on its own peer connection until it has the candidate it is for
-- (relay for TURN, server-reflexive for STUN), an error, the end of gathering or the
-- deadline. Returns the result record.
local function test_server(url)
  local result = { event = "result", server = url, ok = false }
  local is_turn = url:lower():match("^turns?:") ~= nil
  local want = is_turn and "relay" or "srflx"
  local server = { urls = url }
  if is_turn then
    if not opts.user then
      result.reason = "a TURN server needs --user/--pass or --secret"
      return result
    end
    server.username, server.credential = opts.user, opts.pass
    server.tls_ca_file = opts.ca_file
  end
  local ok, pc, err = pcall(rtc.peer_connection, {
    ice_servers = { server }, bind_addresses = #opts.bind > 0 and opts.bind or nil,
    loopback = #opts.bind == 0 or nil })
  if not ok then result.reason = tostring(pc):gsub("^bad argument #1 to 'peer_connection' %((.*)%)$", "%1"); return result end
  if not pc then result.reason = tostring(err); return result end
  local done = false
  local function finish(okay, reason, cand)
    if done then return end
    done = true
    result.ok, result.reason = okay, reason
    if cand then
      result.type, result.address, result.port, result.ms = cand.type, cand.address, cand.port, cand.ms
      result.relay_protocol = cand.relay_protocol
    end
  end
  pc:on("icecandidate", function(c)
    if done then return end
    if not c then
      finish(false, "gathering ended without a " .. want .. " candidate" ..
                    (is_turn and "" or " (no answer, or the mapped address is the local one)"))
      return
    end
    local cand = parse_candidate(c.candidate)
    if not cand then return end
    cand.event, cand.server, cand.ms = "candidate", url, elapsed_ms()
    if cand.type == "relay" then
      -- how the relay is reached (udp, tcp, tls): the stats know
      for _, st in pairs(pc:get_stats()) do
        if st.type == "local-candidate" and st.address == cand.address and st.port == cand.port then
          cand.relay_protocol = st.relayProtocol or cand.relay_protocol
        end
      end
    end
    emit(cand)
    if cand.type == want then finish(true, nil, cand) end
  end)
  pc:on("icecandidateerror", function(e)
    if done then return end
    -- 701 is W3C's "no STUN answer"; a failed TLS handshake says so itself
    local text = tostring(e.error_text)
    if e.error_code == 701 and not text:match("^TLS") then text = "no answer: " .. text end
    emit { event = "error", server = url, ms = elapsed_ms(), code = e.error_code, text = text,
           address = e.address, port = e.port }
    finish(false, string.format("%d %s", e.error_code, text))
  end)
  pc:create_data_channel("icetest")
  local offer, oerr = pc:create_offer()
  if offer then offer, oerr = pc:set_local_description(offer) end
  if not offer then finish(false, tostring(oerr)) end
  local deadline = t0 + opts.timeout * 1000
  while not done do
    if rtc.now() >= deadline then
      emit { event = "error", server = url, ms = elapsed_ms(), text = string.format("timeout: no answer in %g s", opts.timeout) }
      finish(false, string.format("timeout: no %s candidate in %g s", want, opts.timeout))
    else
      rtc.sleep(0.02)
    end
  end
  pc:close()
  return result
end

rtc.spawn(function()
  local tasks = {}
  for i, url in ipairs(opts.servers) do
    tasks[i] = rtc.spawn(test_server, url)
  end
  local results = {}
  for i = 1, #opts.servers do
    local r, terr = tasks[i]:join()
    results[i] = r == nil and terr or r
  end
  -- the summary comes after every server's own lines
  local failed = 0
  for i = 1, #opts.servers do
    local r = results[i]
    -- a task that raised gives its error rather than a record
    if type(r) ~= "table" or r.event ~= "result" then
      r = { event = "result", server = opts.servers[i], ok = false, reason = tostring(r) }
    end
    if not r.ok then failed = failed + 1 end
    emit(r)
  end
  os.exit(failed == 0 and 0 or 1)
end)
