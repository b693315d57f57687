-- A Redis client (RESP2) on luartc's own TCP streams (docs/cluster.md).
--
--   local redis = require "redis"
--   local r = assert(redis.connect("redis://:password@127.0.0.1:6379/0"))
--   assert(r:call("SET", "k", "v"))
--   print(r:call("GET", "k"))        --> v
--
-- Calls pipeline: several tasks may call at once; replies come back in order. A reply
-- is a string, an integer, a table (array), `redis.null` (nil reply) or, for a Redis
-- error, nil, "RedisError: ERR ...". The reply parser is bounded (sizes, counts,
-- nesting) and a malformed reply closes the connection with "ProtocolError: ...".
local rtc = require "rtc"

local M = {}
M.null = setmetatable({}, { __tostring = function() return "redis.null" end })

local MAX_BULK = 64 * 1024 * 1024     -- our cap for one bulk string (Redis allows 512 MiB)
local MAX_ITEMS = 1024 * 1024         -- elements of one array reply
local MAX_DEPTH = 8                   -- arrays inside arrays
local MAX_LINE = 64 * 1024            -- a status/error/integer line

local Client = {}
Client.__index = Client

--- redis.parse_url(url) -> {host, port, password, db} | nil, err
function M.parse_url(url)
  if type(url) ~= "string" then return nil, "TypeError: redis URL must be a string" end
  local rest = url:match("^redis://(.*)$")
  if not rest then return nil, "SyntaxError: redis URL must start with redis://" end
  local auth, hostport, db = rest:match("^([^@]*)@([^/]*)/?(%d*)$")
  if not auth then hostport, db = rest:match("^([^/@]*)/?(%d*)$") end
  if not hostport or hostport == "" then return nil, "SyntaxError: redis URL has no host" end
  local host, port = hostport:match("^%[(.*)%]:?(%d*)$")
  if not host then host, port = hostport:match("^([^:]*):?(%d*)$") end
  port = tonumber(port ~= "" and port or "6379")
  if not port or port < 1 or port > 65535 then return nil, "SyntaxError: bad port in redis URL" end
  local password = auth and auth:match("^[^:]*:(.*)$") or (auth ~= "" and auth or nil)
  return { host = host, port = port, password = password ~= "" and password or nil, db = tonumber(db) }
end

-- {====== reply parser ======
-- Works on a buffer string and a position; returns value, new_pos | nil (need more) |
-- false, err (malformed).
local function parse(buf, pos, depth)
  if #buf < pos then return nil end
  local nl = buf:find("\r\n", pos, true)
  if not nl then
    if #buf - pos > MAX_LINE then return false, "line too long" end
    return nil
  end
  if nl - pos > MAX_LINE then return false, "line too long" end
  local t, line = buf:sub(pos, pos), buf:sub(pos + 1, nl - 1)
  local after = nl + 2
  if t == "+" then return line, after
  elseif t == "-" then return { err = line }, after
  elseif t == ":" then
    local n = math.tointeger(tonumber(line))
    if not n or not line:match("^%-?%d+$") then return false, "bad integer" end
    return n, after
  elseif t == "$" then
    local n = math.tointeger(tonumber(line))
    if not n or not line:match("^%-?%d+$") then return false, "bad bulk length" end
    if n == -1 then return M.null, after end
    if n < 0 or n > MAX_BULK then return false, "bulk length out of range" end
    if #buf < after + n + 1 then return nil end
    if buf:sub(after + n, after + n + 1) ~= "\r\n" then return false, "bulk string not terminated" end
    return buf:sub(after, after + n - 1), after + n + 2
  elseif t == "*" then
    local n = math.tointeger(tonumber(line))
    if not n or not line:match("^%-?%d+$") then return false, "bad array length" end
    if n == -1 then return M.null, after end
    if n < 0 or n > MAX_ITEMS then return false, "array length out of range" end
    if depth >= MAX_DEPTH then return false, "arrays nested too deep" end
    local arr, p = {}, after
    for i = 1, n do
      local v, np = parse(buf, p, depth + 1)
      if v == nil or v == false then return v, np end
      arr[i], p = v, np
    end
    return arr, p
  end
  return false, "unknown reply type " .. string.format("%q", t)
end
M._parse = parse
-- }======

local function encode(args)
  local parts = { "*" .. #args .. "\r\n" }
  for i = 1, #args do
    local a = args[i]
    local ta = type(a)
    if ta == "number" then a = math.type(a) == "integer" and tostring(a) or string.format("%.17g", a)
    elseif ta ~= "string" then error("redis: argument " .. i .. " must be a string or number, got " .. ta, 3) end
    parts[#parts + 1] = "$" .. #a .. "\r\n" .. a .. "\r\n"
  end
  return table.concat(parts)
end

function Client:_fail(err)
  if self.closed then return end
  self.closed = true
  self.error = err
  if self.conn then self.conn:close() end
  local w = self.waiting
  self.waiting = {}
  for _, wt in ipairs(w) do wt.err = err; wt.done = true; rtc._wake_soon(wt.co) end
end

-- One reader task per connection: parses replies and hands each to the oldest caller.
function Client:_reader()
  local buf, pos = "", 1
  while not self.closed do
    local d, err = self.conn:read()
    if not d then self:_fail(err or "NetworkError: redis connection closed"); return end
    buf = buf:sub(pos) .. d
    pos = 1
    while true do
      local v, np = parse(buf, pos, 0)
      if v == nil then break end
      if v == false then self:_fail("ProtocolError: " .. np); return end
      pos = np
      local wt = table.remove(self.waiting, 1)
      if not wt then self:_fail("ProtocolError: a reply nobody asked for"); return end
      if type(v) == "table" and v.err then wt.err = "RedisError: " .. v.err else wt.value = v end
      wt.done = true
      rtc._wake_soon(wt.co)
    end
  end
end

--- client:call(cmd, ...) -> reply | nil, err (yields)
function Client:call(...)
  if self.closed then return nil, self.error or "InvalidStateError: redis connection closed" end
  local co = coroutine.running()
  if not coroutine.isyieldable() then error("redis: call must be made from a task", 2) end
  local wt = { co = co }
  self.waiting[#self.waiting + 1] = wt
  local ok, err = self.conn:write(encode({ ... }))
  if not ok then self:_fail(err) end
  while not wt.done do coroutine.yield() end
  if wt.err then return nil, wt.err end
  return wt.value
end

function Client:close() self:_fail("InvalidStateError: redis connection closed") end

--- redis.connect(url, {timeout = 5}) -> client | nil, err (yields)
function M.connect(url, opts)
  local u, err = M.parse_url(url)
  if not u then return nil, err end
  local host = u.host
  if not host:match("^[%d%.]+$") and not host:find(":", 1, true) then
    local ips, rerr = rtc.resolve(host)
    if not ips then return nil, rerr end
    host = ips[1]
  end
  local conn, cerr = rtc.tcp_connect(host, u.port)
  if not conn then return nil, cerr end
  local c = setmetatable({ conn = conn, waiting = {}, url = url }, Client)
  rtc.spawn(function() c:_reader() end)
  if u.password then
    local ok, aerr = c:call("AUTH", u.password)
    if not ok then c:close(); return nil, aerr end
  end
  if u.db and u.db ~= 0 then
    local ok, serr = c:call("SELECT", u.db)
    if not ok then c:close(); return nil, serr end
  end
  return c
end

return M
