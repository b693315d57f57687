-- Signaling server: rooms of peers relaying JSON messages over WebSocket
-- (protocol in docs/signaling.md). Policy lives in Lua hooks; the mechanics
-- (limits, tokens, relaying, membership notices) are here.
--
--   local signaling = require "signaling"
--   local srv = assert(http.server { port = 8080, static = "examples/web" })
--   local sig = signaling.attach(srv, { secret = "s3cret", max_peers = 8,
--     on_join = function(peer) ... end, on_message = function(peer, msg) ... end })
--   local c = assert(signaling.connect("ws://127.0.0.1:8080/ws", { room = "demo" }))  -- (yields)
local rtc = require "rtc"
local core = require "rtc.core"
local token = require "signaling.token"
local client = require "signaling.client"

local json = rtc.json

local M = {
  make_token = token.make,
  verify_token = token.verify,
  turn_credentials = token.turn_credentials,
  connect = client.connect,
}

-- Application close codes (4000-4999 are ours by RFC 6455 §7.4.2).
M.CLOSE = {
  BAD_REQUEST = 4000,    -- no or invalid room / peer id / info
  BAD_TOKEN = 4001,      -- missing, malformed or wrongly signed token, or for another room
  EXPIRED = 4002,        -- token past its expiry
  ROOM_FULL = 4003,
  RATE = 4004,           -- too many messages per second
  TOO_BIG = 4005,        -- a message over max_message_size
  DUPLICATE = 4006,      -- that peer id is already in the room
  REFUSED = 4007,        -- an on_join hook said no
}

local DEFAULTS = {
  path = "/ws",
  max_peers = 16,              -- per room
  max_rooms = 10000,
  max_message_size = 64 * 1024,
  rate = 50,                   -- messages per second, sustained
  burst = 200,                 -- messages in a burst
  turn_ttl = 86400,
  worker_peer = "sfu",         -- with a pool: the id under which a room's worker is a member
}

local ID_OK = "^[%w_.%-]+$"    -- room and peer ids: 1..64 of these characters

-- Every type the server itself sends. A client may not send these: relayed, a
-- forged `leave` would tear down a real connection and a flood of `join`s would make
-- every member open a connection per ghost. Clients act on them only without `from`
-- (the server adds `from` to everything it relays, so only its own notices lack it).
local RESERVED = { welcome = true, join = true, leave = true, error = true, pong = true }
M.RESERVED = RESERVED

local Sig = {}
Sig.__index = Sig

local function send(peer, msg)
  if peer.gone then return false end
  local ok = peer.ws:send(json.encode(msg))
  return ok and true or false
end

local function member_ids(room)
  local ids = {}
  for id in pairs(room.peers) do ids[#ids + 1] = id end
  table.sort(ids)
  return json.array(ids)
end

local function random_id()
  return (core.base64_encode(core.sha1(tostring(rtc.now()) .. tostring({}) .. math.random()), true):sub(1, 10)
          :gsub("[_-]", "x"))
end

function Sig:_error(peer, code, text, ref)
  self.stats.errors = self.stats.errors + 1
  send(peer, { type = "error", error = code, message = text, ref = ref })
end

function Sig:_leave(peer)
  if peer.gone then return end
  peer.gone = true
  local room = self.rooms[peer.room]
  if not room or room.peers[peer.id] ~= peer then return end
  room.peers[peer.id] = nil
  room.count = room.count - 1
  self.stats.peers = self.stats.peers - 1
  self:_to_worker(room, { signaling = "leave", room = room.id, peer = peer.id })
  if room.count == 0 then
    self.rooms[peer.room] = nil
    self.stats.rooms = self.stats.rooms - 1
    if room.worker then
      self:_to_worker(room, { signaling = "close", room = room.id })
      self.opts.pool:release(room.id)
    end
  end
  if self.opts.on_leave then
    local ok, err = pcall(self.opts.on_leave, peer)
    if not ok then rtc.log.error("signaling", "on_leave: %s", tostring(err)) end
  end
  local ids = room.count > 0 and member_ids(room)
  for _, other in pairs(room.peers) do send(other, { type = "leave", id = peer.id, peers = ids }) end
end

-- A token bucket: `rate` per second refilled up to `burst`.
local function allow(peer, rate, burst)
  local now = rtc.now()
  local tokens = math.min(burst, peer.bucket + (now - peer.bucket_at) * rate / 1000)
  peer.bucket_at = now
  if tokens < 1 then
    peer.bucket = tokens
    return false
  end
  peer.bucket = tokens - 1
  return true
end

function Sig:_message(peer, data, binary)
  if peer.gone then return end
  local o = self.opts
  if #data > o.max_message_size then
    self.stats.dropped = self.stats.dropped + 1
    peer.ws:close(M.CLOSE.TOO_BIG, "message too big")
    return self:_leave(peer)
  end
  if not allow(peer, o.rate, o.burst) then
    self.stats.dropped = self.stats.dropped + 1
    peer.ws:close(M.CLOSE.RATE, "rate limit exceeded")
    return self:_leave(peer)
  end
  if binary then return self:_error(peer, "bad-message", "binary messages are not accepted") end
  local msg, err = json.decode(data)
  if type(msg) ~= "table" or json.is_array(msg) then
    return self:_error(peer, "bad-json", msg == nil and err or "a message is a JSON object")
  end
  if type(msg.type) ~= "string" then return self:_error(peer, "bad-message", "message has no type") end
  local to = msg.to
  if to ~= nil and type(to) ~= "string" then return self:_error(peer, "bad-message", "'to' must be a peer id", msg.type) end
  if msg.type == "ping" then return send(peer, { type = "pong" }) end
  if RESERVED[msg.type] then
    return self:_error(peer, "reserved-type", "'" .. msg.type .. "' is sent by the server only", msg.type)
  end
  msg.from = peer.id
  if o.on_message then
    local ok, res, why = pcall(o.on_message, peer, msg)
    if not ok then
      rtc.log.error("signaling", "on_message: %s", tostring(res))
      return self:_error(peer, "internal", "message hook failed", msg.type)
    end
    if res == false then return self:_error(peer, "refused", why or "message refused", msg.type) end
    if type(res) == "table" then
      -- A replacement still comes from this peer: without `from`, clients would
      -- take it for a server notice.
      msg = res
      msg.from = peer.id
    end
  end
  local room = self.rooms[peer.room]
  self.stats.relayed = self.stats.relayed + 1
  if room and room.worker and (to == nil or to == o.worker_peer) then
    -- The room's worker is a member: it gets what is sent to it and every broadcast.
    local ok, err = self:_to_worker(room, { signaling = "message", room = room.id, from = peer.id, msg = msg })
    if not ok then return self:_error(peer, "busy", "the room's worker cannot take it: " .. tostring(err), msg.type) end
    if to then return end
  end
  if to then
    local dest = room and room.peers[to]
    if not dest then return self:_error(peer, "unknown-peer", "no peer '" .. to .. "' in this room", msg.type) end
    send(dest, msg)
  else
    local text = json.encode(msg)
    for id, other in pairs(room.peers) do
      if id ~= peer.id and not other.gone then other.ws:send(text) end
    end
  end
end

-- Admission: query parameters, token, room capacity, hook. Returns the peer or
-- closes the socket with the reason.
function Sig:_join(ws, req)
  local o = self.opts
  local function q(name) return core.http_query_param(req.target, name) end
  local function refuse(code, reason)
    self.stats.refused = self.stats.refused + 1
    ws:close(code, reason)
    return nil
  end
  local room_id, peer_id, info_text = q("room"), q("peer"), q("info")
  local claims
  if o.secret then
    local tok = q("token")
    local c, kind, why = token.verify(o.secret, tok)
    if not c then return refuse(kind == "expired" and M.CLOSE.EXPIRED or M.CLOSE.BAD_TOKEN, why) end
    if room_id and c.room ~= room_id then return refuse(M.CLOSE.BAD_TOKEN, "token is for another room") end
    if peer_id and c.peer and c.peer ~= peer_id then return refuse(M.CLOSE.BAD_TOKEN, "token is for another peer") end
    -- A token that names no peer is for a peer the server names: letting its holder
    -- pick an id would let it take the id of a member who just left (or of one about
    -- to join), and with it the messages meant for that member.
    if peer_id and not c.peer then return refuse(M.CLOSE.BAD_TOKEN, "token names no peer: the server picks the id") end
    room_id, peer_id, claims = c.room, c.peer, c
  end
  if type(room_id) ~= "string" or #room_id > 64 or not room_id:match(ID_OK) then
    return refuse(M.CLOSE.BAD_REQUEST, "missing or invalid room")
  end
  if peer_id and (#peer_id > 64 or not peer_id:match(ID_OK)) then
    return refuse(M.CLOSE.BAD_REQUEST, "invalid peer id")
  end
  local info
  if info_text then
    info = #info_text <= 1024 and json.decode(info_text)
    if type(info) ~= "table" then return refuse(M.CLOSE.BAD_REQUEST, "info must be a JSON object") end
  end
  local room = self.rooms[room_id]
  if room and room.count >= o.max_peers then return refuse(M.CLOSE.ROOM_FULL, "room is full") end
  if not room and self.stats.rooms >= o.max_rooms then return refuse(M.CLOSE.ROOM_FULL, "too many rooms") end
  if not peer_id then
    repeat peer_id = random_id() until not (room and room.peers[peer_id])
  elseif room and room.peers[peer_id] then
    return refuse(M.CLOSE.DUPLICATE, "peer id already in the room")
  end
  local peer = { id = peer_id, room = room_id, info = info, claims = claims, ws = ws,
                 bucket = o.burst, bucket_at = rtc.now(), remote = ws.remote_host }
  if o.on_join then
    local ok, res, why = pcall(o.on_join, peer, req)
    if not ok then
      rtc.log.error("signaling", "on_join: %s", tostring(res))
      return refuse(1011, "join hook failed")
    end
    if res == false then return refuse(M.CLOSE.REFUSED, why or "refused") end
  end
  room = self.rooms[room_id]   -- the hook may have yielded
  if not room then
    room = { id = room_id, peers = {}, count = 0 }
    if o.pool then
      local w, perr = o.pool:place(room_id)
      if not w then return refuse(M.CLOSE.REFUSED, "no worker for the room: " .. tostring(perr)) end
      room.worker = w
    end
    self.rooms[room_id] = room
    self.stats.rooms = self.stats.rooms + 1
  end
  if o.pool and peer_id == o.worker_peer then return refuse(M.CLOSE.DUPLICATE, "peer id already in the room") end
  if room.count >= o.max_peers then return refuse(M.CLOSE.ROOM_FULL, "room is full") end
  if room.peers[peer_id] then return refuse(M.CLOSE.DUPLICATE, "peer id already in the room") end
  local others = {}
  for id, other in pairs(room.peers) do others[#others + 1] = { id = id, info = other.info } end
  table.sort(others, function(a, b) return a.id < b.id end)
  room.peers[peer_id] = peer
  room.count = room.count + 1
  self.stats.peers = self.stats.peers + 1
  self.stats.joins = self.stats.joins + 1
  local welcome = { type = "welcome", id = peer_id, room = room_id, peers = json.array(others) }
  if o.turn or o.stun then
    welcome.ice_servers = json.array({})
    if o.stun then table.insert(welcome.ice_servers, { urls = o.stun }) end
    if o.turn then table.insert(welcome.ice_servers, self:turn_server(peer_id, claims and claims.exp)) end
  end
  send(peer, welcome)
  self:_to_worker(room, { signaling = "join", room = room_id, peer = peer_id, info = info })
  local ids = member_ids(room)
  for id, other in pairs(room.peers) do
    if id ~= peer_id then send(other, { type = "join", id = peer_id, info = info, peers = ids }) end
  end
  return peer
end

-- {====== rooms on workers (opts.pool, rtc.worker.pool; docs/signaling.md) ======
-- Sends a frame to the room's worker. A worker that has ended is replaced: the pool
-- places the room again and the new worker hears every member join first.
function Sig:_to_worker(room, frame)
  if not room.worker then return true end
  local w, err = self.opts.pool:place(room.id)    -- the same worker while it runs
  if not w then return nil, err end
  if w ~= room.worker then
    room.worker = w
    for id, p in pairs(room.peers) do
      if not (frame.signaling == "join" and frame.peer == id) then
        w:send({ signaling = "join", room = room.id, peer = id, info = p.info })
      end
    end
  end
  local ok, err = w:send(frame)
  if not ok then rtc.log.warn("signaling", "room %s: worker %d: %s", room.id, w:id(), tostring(err)) end
  return ok, err
end

-- A frame from a worker: {signaling = "send", room =, to = peer, msg =} or
-- {signaling = "broadcast", room =, msg =}; delivered from opts.worker_peer. Other
-- messages go to opts.on_worker_message(worker, msg).
function Sig:_from_worker(w, m)
  if type(m) ~= "table" or (m.signaling ~= "send" and m.signaling ~= "broadcast") then
    if self.opts.on_worker_message then
      local ok, err = pcall(self.opts.on_worker_message, w, m)
      if not ok then rtc.log.error("signaling", "on_worker_message: %s", tostring(err)) end
    end
    return
  end
  local room = type(m.room) == "string" and self.rooms[m.room]
  if not room or room.worker ~= w or type(m.msg) ~= "table" or type(m.msg.type) ~= "string" then
    rtc.log.warn("signaling", "worker %d: a frame for a room it does not hold, or without a message", w:id())
    return
  end
  local msg = m.msg
  msg.from = self.opts.worker_peer
  if m.signaling == "send" then
    local dest = type(m.to) == "string" and room.peers[m.to]
    if dest then send(dest, msg) end
  else
    local text = json.encode(msg)
    for _, p in pairs(room.peers) do if not p.gone then p.ws:send(text) end end
  end
end
-- }======

--- sig:turn_server(user, not_after) -> {urls=, username=, credential=, ttl=} (when opts.turn
--- is set): credentials for `user` valid for turn.ttl seconds, and never past the Unix
--- time `not_after` (the expiry of the token they are issued for).
function Sig:turn_server(user, not_after)
  local t = self.opts.turn
  local now = os.time()
  local ttl = t.ttl or self.opts.turn_ttl
  if not_after then ttl = math.max(0, math.min(ttl, math.floor(not_after) - now)) end
  local username, password = token.turn_credentials(t.secret, user, ttl, now)
  return { urls = json.array(t.uris), username = username, credential = password, ttl = ttl }
end

--- sig:send(room, peer_id, msg) -> true | false: a message from the server itself.
function Sig:send(room_id, peer_id, msg)
  local room = self.rooms[room_id]
  local peer = room and room.peers[peer_id]
  if not peer then return false end
  return send(peer, msg)
end

--- sig:broadcast(room, msg): to every member.
function Sig:broadcast(room_id, msg)
  local room = self.rooms[room_id]
  if not room then return 0 end
  local text, n = json.encode(msg), 0
  for _, peer in pairs(room.peers) do peer.ws:send(text); n = n + 1 end
  return n
end

--- sig:members(room) -> sorted list of peer ids
function Sig:members(room_id)
  local room = self.rooms[room_id]
  return room and member_ids(room) or json.array({})
end

--- sig:kick(room, peer_id, code, reason)
function Sig:kick(room_id, peer_id, code, reason)
  local room = self.rooms[room_id]
  local peer = room and room.peers[peer_id]
  if not peer then return false end
  peer.ws:close(code or 4008, reason or "removed")
  self:_leave(peer)
  return true
end

local JSON_HEADERS = { ["Content-Type"] = "application/json", ["Cache-Control"] = "no-store" }

local function json_error(status, text)
  return status, json.encode { error = text } .. "\n", JSON_HEADERS
end

-- A page of a site not on the origin list must not read what these routes return
-- in a visitor's name (requests without Origin are not from a page).
function Sig:_origin_ok(req)
  local list = self._origins
  local origin = req.headers.origin
  return not list or origin == nil or list[origin] == true
end

-- The token of an HTTP request: `Authorization: Bearer T` or `?token=T`.
local function request_token(req)
  local auth = req.headers.authorization
  local t = auth and auth:match("^[Bb]earer%s+(%S+)$")
  return t or core.http_query_param(req.target, "token")
end

-- GET /turn?token=T[&user=PEER]: TURN REST credentials (coturn's use-auth-secret) for
-- the peer the token names, expiring no later than the token.
function Sig:_turn_route(req)
  local o = self.opts
  if not self:_origin_ok(req) then return json_error(403, "origin not allowed") end
  local c, _, why = token.verify(o.secret, request_token(req))
  if not c then return json_error(403, why) end
  if type(c.peer) ~= "string" or #c.peer > 64 or not c.peer:match(ID_OK) then
    return json_error(403, "token names no peer: use the credentials in the welcome message")
  end
  local user = core.http_query_param(req.target, "user")
  if user and user ~= c.peer then return json_error(403, "token is for another peer") end
  local s = self:turn_server(c.peer, c.exp)
  local body = json.encode { username = s.username, password = s.credential, ttl = s.ttl, uris = s.urls }
  return 200, body, JSON_HEADERS
end

-- GET /healthz: counts only (no room names, peer ids or addresses).
local HEALTH_FIELDS = { "rooms", "peers", "joins", "relayed", "errors", "refused", "dropped" }
function Sig:_health_route(req)
  if not self:_origin_ok(req) then return json_error(403, "origin not allowed") end
  local body = { status = "ok" }
  for _, k in ipairs(HEALTH_FIELDS) do body[k] = self.stats[k] end
  return 200, json.encode(body), JSON_HEADERS
end

--- signaling.attach(http_server, opts) -> sig
--- opts: path ("/ws"), secret (tokens required when set), max_peers, max_rooms,
--- max_message_size, rate, burst, turn = {secret=, uris={...}, ttl=} (needs `secret`:
--- TURN credentials go only to token holders), stun = url,
--- origins = {"https://example.org", ...} (pages allowed to connect; absent = any),
--- on_join(peer, req) -> false, reason to refuse; on_message(peer, msg) -> false, reason
--- to drop | a replacement msg | nil to relay as is; on_leave(peer).
function M.attach(server, opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.turn and not o.secret then
    error("signaling.attach: turn needs secret (TURN credentials are issued only to holders of a join token)", 2)
  end
  if o.origins ~= nil and type(o.origins) ~= "table" then error("signaling.attach: origins must be a list", 2) end
  local origins
  if o.origins then
    origins = {}
    for _, v in ipairs(o.origins) do
      if type(v) ~= "string" then error("signaling.attach: origins must be a list of strings", 2) end
      origins[v] = true
    end
  end
  local self = setmetatable({ opts = o, server = server, rooms = {}, _origins = origins,
                              stats = { rooms = 0, peers = 0, joins = 0, relayed = 0, errors = 0,
                                        refused = 0, dropped = 0 } }, Sig)
  if o.pool ~= nil then
    if type(o.pool) ~= "table" or type(o.pool.place) ~= "function" then
      error("signaling.attach: pool must be an rtc.worker.pool", 2)
    end
    for _, w in ipairs(o.pool.workers) do w:on("message", function(m) self:_from_worker(w, m) end) end
  end
  server:websocket(o.path, function(ws, req)
    local peer = self:_join(ws, req)
    if not peer then return end
    ws:on("message", function(data, binary) self:_message(peer, data, binary) end)
    ws:on("close", function() self:_leave(peer) end)
  end, { origins = o.origins, allow_no_origin = true })
  if o.turn then server:route("GET", "/turn", function(req) return self:_turn_route(req) end) end
  server:route("GET", "/healthz", function(req) return self:_health_route(req) end)
  return self
end

--- signaling.listen(opts) -> sig, http_server | nil, err: an HTTP server (opts.host,
--- opts.port, opts.static, ...) with the signaling endpoint attached.
function M.listen(opts)
  local http = require "http"
  local hopts = {}
  for k, v in pairs(opts or {}) do hopts[k] = v end
  hopts.max_message = hopts.max_message or (opts and opts.max_message_size or DEFAULTS.max_message_size) + 1024
  -- Find peers that vanished without closing (a laptop lid, a dead NAT mapping):
  -- ping after 30 s of silence, drop after another 30 s (browsers answer pings).
  if hopts.ping_interval == nil then hopts.ping_interval = 30000 end
  local server, err = http.server(hopts)
  if not server then return nil, err end
  local ok, sig = pcall(M.attach, server, opts)
  if not ok then
    server:close()
    error(sig, 0)
  end
  return sig, server
end

return M
