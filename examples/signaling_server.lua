-- Signaling server with the web demo page.
--   luartc examples/signaling_server.lua --listen 127.0.0.1:8080 [--secret S] [--web DIR]
--       [--max-peers N] [--turn-secret S --turn-uri turn:host:3478] [--stun stun:host:3478]
--       [--cert FILE --key FILE]   (PEM: serve https and wss instead of http and ws)
--       [--origin URL ...]         (only pages from these origins may connect)
--       [--tools TOKEN]            (operator pages with ?token=TOKEN: /tools/ice against the
--                                   --stun/--turn-uri servers, /stats, and /metrics)
-- Without --secret rooms are open; with one every client needs a token (see
-- docs/signaling.md; make one with --make-token ROOM[:PEER]). TURN credentials go
-- only to token holders, so --turn-secret needs --secret.
local rtc = require "rtc"
local signaling = require "signaling"

local function usage(msg)
  io.stderr:write("signaling_server: ", msg, "\n",
    "usage: signaling_server.lua --listen HOST:PORT [--secret S] [--web DIR] [--max-peers N]\n",
    "       [--turn-secret S --turn-uri URI ...] [--stun URI] [--make-token ROOM[:PEER] [--ttl S]]\n",
    "       [--cert FILE --key FILE] [--origin URL ...] [--tools TOKEN]\n")
  os.exit(2)
end

local here = (arg[0] or ""):match("^(.*)/[^/]*$") or "."
local opts = { listen = "127.0.0.1:8080", web = here .. "/web", max_peers = 16, turn_uris = {}, origins = {} }
do
  local i = 1
  local function value() i = i + 1; return arg[i] or usage("missing value for " .. arg[i - 1]) end
  while arg[i] do
    local a = arg[i]
    if a == "--listen" then opts.listen = value()
    elseif a == "--secret" then opts.secret = value()
    elseif a == "--web" then opts.web = value()
    elseif a == "--no-web" then opts.web = nil
    elseif a == "--max-peers" then opts.max_peers = tonumber(value()) or usage("--max-peers needs a number")
    elseif a == "--turn-secret" then opts.turn_secret = value()
    elseif a == "--turn-uri" then opts.turn_uris[#opts.turn_uris + 1] = value()
    elseif a == "--stun" then opts.stun = value()
    elseif a == "--make-token" then opts.make_token = value()
    elseif a == "--ttl" then opts.ttl = tonumber(value()) or usage("--ttl needs a number")
    elseif a == "--cert" then opts.cert = value()
    elseif a == "--key" then opts.key = value()
    elseif a == "--tools" then opts.tools = value()
    elseif a == "--origin" then
      local o = value()
      -- An Origin header is scheme://host[:port], no path: a URL with one never matches.
      if not o:match("^https?://[^/]+$") then usage("--origin wants scheme://host[:port], e.g. https://example.org") end
      opts.origins[#opts.origins + 1] = o
    else usage("unknown option " .. a) end
    i = i + 1
  end
end

if opts.make_token then
  if not opts.secret then usage("--make-token needs --secret") end
  local room, peer = opts.make_token:match("^([^:]+):?(.*)$")
  print(signaling.make_token(opts.secret, { room = room, peer = peer ~= "" and peer or nil, ttl = opts.ttl or 3600 }))
  return
end

local host, port = opts.listen:match("^%[?([^%]]*)%]?:(%d+)$")
if not host then usage("--listen wants HOST:PORT") end
if (opts.cert == nil) ~= (opts.key == nil) then usage("--cert and --key go together") end
if opts.turn_secret and not opts.secret then usage("--turn-secret needs --secret (TURN credentials go only to token holders)") end

local sig, srv = signaling.listen {
  host = host, port = tonumber(port), static = opts.web, secret = opts.secret, max_peers = opts.max_peers,
  stun = opts.stun, origins = #opts.origins > 0 and opts.origins or nil,
  tls = opts.cert and { cert = opts.cert, key = opts.key } or nil,
  turn = opts.turn_secret and { secret = opts.turn_secret, uris = opts.turn_uris } or nil,
  on_join = function(peer) rtc.log.info("signaling", "%s joined %s", peer.id, peer.room) end,
  on_leave = function(peer) rtc.log.info("signaling", "%s left %s", peer.id, peer.room) end,
}
if not sig then
  io.stderr:write("signaling_server: ", tostring(srv), "\n")
  os.exit(1)
end
if opts.tools then
  -- The operator's tools beside the signaling (docs/tools.md); TURN REST credentials on
  -- the tester page go to whoever has this token, so keep it to operators.
  local servers = {}
  if opts.stun then servers[#servers + 1] = { urls = opts.stun } end
  for _, u in ipairs(opts.turn_uris) do servers[#servers + 1] = { urls = u } end
  require("icepage").mount(srv, "/tools/ice", { servers = servers, turn_secret = opts.turn_secret, token = opts.tools })
  require("stats").mount(srv, "/stats", { token = opts.tools })
  require("metrics").mount(srv, "/metrics", { token = opts.tools })
end
local ws_scheme, http_scheme = opts.cert and "wss" or "ws", opts.cert and "https" or "http"
print(string.format("signaling on %s://%s:%d/ws%s", ws_scheme, host, srv.port,
                    opts.web and string.format(", demo page on %s://%s:%d/?room=demo", http_scheme, host, srv.port) or ""))
io.stdout:flush()
rtc.on("shutdown", function(signame)
  rtc.log.info("signaling", "shutting down (%s)", signame)
  srv:close()
end)
