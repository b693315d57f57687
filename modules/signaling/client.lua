-- Lua signaling client: joins a room the way the browser page does, so bots and
-- tests are peers like any other (docs/signaling.md, "Lua client").
--
--   local c = assert(signaling.connect("ws://127.0.0.1:8080/ws", { room = "demo" }))  -- (yields)
--   c:on("join", function(id, info) ... end)
--   c:on("message", function(msg) ... end)        -- offer/answer/candidate/app messages
--   c:send { type = "offer", to = id, sdp = ... }
--   local msg = c:wait("answer", 5)                -- (yields) or use handlers
local rtc = require "rtc"
local core = require "rtc.core"
local http = require "http"
local json = rtc.json

local M = {}

local Client = {}
Client.__index = Client
Client.__name = "signaling.client"
local EVENTS = { message = true, join = true, leave = true, close = true, error = true }

local function wake(self)
  local co = self._waiter
  if co then
    self._waiter = nil
    local ok, err = coroutine.resume(co)
    if not ok then rtc.log.error("signaling", "waiter failed: %s", tostring(err)) end
  end
end

local function emit(self, ev, ...)
  local h = self._handlers[ev]
  if not h then return false end
  local ok, err = pcall(h, ...)
  if not ok then rtc.log.error("signaling", "%s handler: %s", ev, tostring(err)) end
  return true
end

-- The types only the server sends (signaling.RESERVED). The server adds `from` to
-- every message it relays, so one of these carrying `from` is another member's
-- forgery (or a server that relays them): never acted on, never queued for wait().
local SERVER_ONLY = { welcome = true, join = true, leave = true, error = true, pong = true }
M.SERVER_ONLY = SERVER_ONLY

local function on_text(self, data)
  local msg = json.decode(data)
  if type(msg) ~= "table" or type(msg.type) ~= "string" then return end
  local t = msg.type
  if SERVER_ONLY[t] and msg.from ~= nil then
    self.forged = (self.forged or 0) + 1
    rtc.log.warn("signaling", "ignored a '%s' notice sent by %s", t, tostring(msg.from))
    return
  end
  if t == "welcome" then
    self.id, self.room, self.ice_servers = msg.id, msg.room, msg.ice_servers
    self.peers = {}
    for _, p in ipairs(msg.peers) do self.peers[p.id] = p.info or true end
  elseif t == "join" then
    if self.peers then self.peers[msg.id] = msg.info or true end
    emit(self, "join", msg.id, msg.info, msg)
  elseif t == "leave" then
    if self.peers then self.peers[msg.id] = nil end
    emit(self, "leave", msg.id, msg)
  elseif t == "error" then
    emit(self, "error", msg)
  elseif t ~= "pong" then
    emit(self, "message", msg)
  end
  local inbox = self._inbox
  inbox[#inbox + 1] = msg
  -- Handlers usually consume messages; keep only a bounded backlog for wait().
  if #inbox > 256 then table.remove(inbox, 1) end
  wake(self)
end

--- signaling.connect(url, {room=, token=, peer=, info=table, origin=, timeout=, ca=, ca_pem=,
---   insecure=, servername=}) -> client | nil, err, code   (wss:// URLs: TLS options as in http.ws_connect)
--- (yields until the server's welcome, or the refusal with its close code)
function M.connect(url, opts)
  opts = opts or {}
  local params = {}
  local function add(k, v)
    if v == nil then return end
    params[#params + 1] = k .. "=" .. tostring(v):gsub("[^%w_.~-]", function(c) return string.format("%%%02X", c:byte()) end)
  end
  add("room", opts.room)
  add("peer", opts.peer)
  add("token", opts.token)
  if opts.info then add("info", json.encode(opts.info)) end
  local full = url .. (#params > 0 and ((url:find("?", 1, true) and "&" or "?") .. table.concat(params, "&")) or "")
  local ws, err = http.ws_connect(full, { timeout = opts.timeout, max_message = opts.max_message, origin = opts.origin, ca = opts.ca,
                                          ca_pem = opts.ca_pem, insecure = opts.insecure, servername = opts.servername })
  if not ws then return nil, err end
  local self = setmetatable({ ws = ws, _handlers = {}, _inbox = {}, peers = nil }, Client)
  ws:on("message", function(data, binary) if not binary then on_text(self, data) end end)
  ws:on("close", function(code, reason)
    self.closed, self.close_code, self.close_reason = true, code, reason
    emit(self, "close", code, reason)
    wake(self)
  end)
  local welcome = self:wait("welcome", opts.timeout or 10)
  if not welcome then
    ws:abort()
    return nil, "NetworkError: refused: " .. tostring(self.close_reason or "no welcome") .. " (" .. tostring(self.close_code) .. ")",
           self.close_code
  end
  return self
end

function Client:on(ev, fn)
  if not EVENTS[ev] then error("unknown signaling event '" .. tostring(ev) .. "'", 2) end
  self._handlers[ev] = fn
  return self
end

--- client:send(msg) -> true | nil, err   (msg.to = a peer id, or absent to broadcast)
function Client:send(msg)
  if self.closed then return nil, "InvalidStateError: signaling connection closed" end
  return self.ws:send(type(msg) == "string" and msg or json.encode(msg))
end

--- client:wait(type | fn(msg) -> bool, timeout_s) -> msg | nil, "closed" | "timeout"  (yields)
--- Takes the first received message of that type that no earlier wait took.
function Client:wait(what, timeout)
  local match = type(what) == "function" and what or function(m) return m.type == what end
  local timer, timed_out
  local co = coroutine.running()
  if timeout then
    timer = rtc.set_timeout(timeout * 1000, function()
      timed_out = true
      if self._waiter == co then wake(self) end
    end)
  end
  while true do
    for i, m in ipairs(self._inbox) do
      if match(m) then
        table.remove(self._inbox, i)
        if timer then timer:stop() end
        return m
      end
    end
    if self.closed then if timer then timer:stop() end return nil, "closed" end
    if timed_out then return nil, "timeout" end
    self._waiter = co
    coroutine.yield()
  end
end

--- client:close(): leaves the room.
function Client:close()
  if not self.closed then self.ws:close(1000, "bye") end
end

M.Client = Client
return M
