-- Nodes and rooms across machines through Redis (docs/cluster.md).
--
--   local cluster = require "cluster"
--   local node = assert(cluster.node{ redis = "redis://127.0.0.1:6379", id = "sfu-a",
--                                     address = "203.0.113.5:8443", capacity = 500,
--                                     secret = os.getenv("LUARTC_CLUSTER_SECRET") })
--   node:start()                       -- heartbeat task
--   local owner = node:claim_room("lobby")   -- "sfu-a" if we got it, else its owner
--
-- Each node keeps `<prefix>node:<id>` = a signed JSON record {id, address, capacity,
-- load, ts} with an expiry of `ttl` seconds, rewritten every `interval` seconds. A
-- record whose signature (HMAC-SHA256 with the shared secret) does not verify is
-- ignored: a node with the wrong secret is invisible to the others, and so are the
-- rooms it claims. A room is `<prefix>room:<name>` = owner id, claimed with SET NX
-- (atomic: one winner), kept alive by its owner's heartbeat and gone `ttl` seconds
-- after the owner stops; then another node can claim it.
local rtc = require "rtc"
local core = require "rtc.core"
local redis = require "redis"

local M = {}

local Node = {}
Node.__index = Node

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

local function sign(secret, payload) return hex(core.hmac_sha256(secret, payload)) end

--- cluster.node(opts) -> node | nil, err. Options: redis (URL), id, address, capacity,
--- secret (required, shared by the nodes), ttl (s, default 5), interval (s, default ttl/3),
--- prefix (default "luartc:").
function M.node(o)
  if type(o) ~= "table" then error("bad argument #1 to 'cluster.node' (options table expected)", 2) end
  for _, k in ipairs({ "redis", "id", "secret" }) do
    if type(o[k]) ~= "string" or o[k] == "" then error("cluster.node: option '" .. k .. "' (string) is required", 2) end
  end
  if o.id:find("[^%w%-%._]") then error("cluster.node: id may hold letters, digits, '-', '.', '_'", 2) end
  local ttl = o.ttl or 5
  if type(ttl) ~= "number" or ttl < 1 then error("cluster.node: ttl must be at least 1 second", 2) end
  local n = setmetatable({
    url = o.redis, id = o.id, address = o.address or "", capacity = o.capacity or 0,
    secret = o.secret, ttl = math.ceil(ttl), interval = o.interval or ttl / 3,
    prefix = o.prefix or "luartc:", load = 0, rooms = {}, running = false,
    registered = false,
  }, Node)
  return n
end

function Node:_conn()
  if self.r and not self.r.closed then return self.r end
  local r, err = redis.connect(self.url)
  if not r then return nil, err end
  self.r = r
  return r
end

function Node:_call(...)
  local r, err = self:_conn()
  if not r then return nil, err end
  return r:call(...)
end

function Node:_record()
  local rec = rtc.json.encode({ id = self.id, address = self.address, capacity = self.capacity,
                                load = self.load, ts = math.floor(rtc.now()) })
  return rec .. "\n" .. sign(self.secret, rec)
end

-- Verified record or nil: the payload, a newline, its HMAC in hex.
function Node:_verify(value)
  if type(value) ~= "string" then return nil end
  local rec, mac = value:match("^(.-)\n(%x+)$")
  if not rec or not core.ct_equal(mac, sign(self.secret, rec)) then return nil end
  local ok, t = pcall(rtc.json.decode, rec)
  if not ok or type(t) ~= "table" or type(t.id) ~= "string" then return nil end
  return t
end

--- node:heartbeat() -> true | nil, err: one registration and room refresh now.
function Node:heartbeat()
  local ok, err = self:_call("SET", self.prefix .. "node:" .. self.id, self:_record(), "EX", self.ttl)
  if not ok then self.registered = false; return nil, err end
  self.registered = true
  for room in pairs(self.rooms) do
    -- Refresh only while it is still ours (compare and expire in one step).
    local still = self:_call("EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('EXPIRE', KEYS[1], ARGV[2]) else return 0 end",
                             1, self.prefix .. "room:" .. room, self.id, self.ttl)
    if still == 0 then self.rooms[room] = nil end
  end
  return true
end

--- node:start(): heartbeat every `interval` s in a task; Redis errors are logged and
--- retried (the record reappears when Redis is back).
function Node:start()
  if self.running then return end
  self.running = true
  self.task = rtc.spawn(function()
    while self.running do
      local ok, err = self:heartbeat()
      if not ok then
        rtc.log.warn("cluster", "heartbeat of %s failed: %s", self.id, tostring(err))
        if self.r then self.r:close(); self.r = nil end
      end
      rtc.sleep(self.interval)
    end
  end)
end

--- node:stop(): stop the heartbeat and remove our record and rooms (others see us
--- gone at once instead of after ttl).
function Node:stop()
  self.running = false
  if self.r and not self.r.closed then
    self:_call("DEL", self.prefix .. "node:" .. self.id)
    for room in pairs(self.rooms) do self:release_room(room) end
    self.r:close()
  end
  self.r = nil
end

function Node:set_load(n) self.load = n end

--- node:nodes() -> { [id] = record } of live nodes whose records verify.
function Node:nodes()
  local keys, err = self:_call("KEYS", self.prefix .. "node:*")
  if not keys then return nil, err end
  local out = {}
  for _, k in ipairs(keys) do
    local rec = self:_verify(self:_call("GET", k))
    if rec and k == self.prefix .. "node:" .. rec.id then out[rec.id] = rec end
  end
  return out
end

--- node:claim_room(name) -> owner_id, mine | nil, err. Atomic: of nodes claiming the
--- same free room at once, one wins. A room held by an id with no live, verified
--- record (a dead node, or one with the wrong secret) is taken over.
function Node:claim_room(name, attempt)
  attempt = attempt or 1
  if attempt > 5 then return nil, "OperationError: room '" .. name .. "' keeps changing owner" end
  local key = self.prefix .. "room:" .. name
  local got, err = self:_call("SET", key, self.id, "NX", "EX", self.ttl)
  if got == nil then return nil, err end
  if got == "OK" then self.rooms[name] = true; return self.id, true end
  local owner = self:_call("GET", key)
  if type(owner) ~= "string" then return self:claim_room(name, attempt + 1) end   -- expired meanwhile
  if owner == self.id then self.rooms[name] = true; return owner, true end
  local rec = self:_verify(self:_call("GET", self.prefix .. "node:" .. owner))
  if rec and rec.id == owner then return owner, false end
  -- Not a node we trust: replace its claim, but only if it is still the same one.
  local swapped = self:_call("EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1 else return 0 end",
                             1, key, owner, self.id, self.ttl)
  if swapped == 1 then self.rooms[name] = true; return self.id, true end
  return self:claim_room(name, attempt + 1)
end

--- node:route(name) -> {here = true} | {here = false, owner = id, address = addr} | nil, err
--- Where a join for room `name` goes: here (the room is ours, claimed now if it was
--- free) or a redirect to the owner's published address. The signaling layer answers
--- a join with that redirect (docs/cluster.md).
function Node:route(name)
  local owner, mine = self:claim_room(name)
  if not owner then return nil, mine end
  if mine then return { here = true, owner = owner } end
  local rec = self:_verify(self:_call("GET", self.prefix .. "node:" .. owner))
  if not rec then return self:route(name) end     -- the owner vanished meanwhile
  return { here = false, owner = owner, address = rec.address }
end

--- node:room_owner(name) -> id | nil (unclaimed or held by an untrusted id)
function Node:room_owner(name)
  local owner = self:_call("GET", self.prefix .. "room:" .. name)
  if type(owner) ~= "string" then return nil end
  if owner == self.id then return owner end
  local rec = self:_verify(self:_call("GET", self.prefix .. "node:" .. owner))
  return rec and rec.id == owner and owner or nil
end

--- node:release_room(name): give it up if it is ours.
function Node:release_room(name)
  self.rooms[name] = nil
  return self:_call("EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
                    1, self.prefix .. "room:" .. name, self.id)
end

return M
