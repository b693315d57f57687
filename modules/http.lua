-- HTTP/1.1 server, WebSocket server and client over rtc.tcp_listen / rtc.tcp_connect,
-- driving the C codec (runtime/http, bound in runtime/lua/lrtc_http.c).
--
--   local http = require "http"
--   local srv = assert(http.server { host = "127.0.0.1", port = 8080, static = "web" })
--   srv:route("GET", "/hello", function(req) return 200, "hi", { ["Content-Type"] = "text/plain" } end)
--   srv:websocket("/ws", function(ws, req) ws:on("message", function(d) ws:send(d) end) end)
--   local ws = assert(http.ws_connect("ws://127.0.0.1:8080/ws"))   -- (yields)
--
-- TLS: http.server{..., tls = {cert = "cert.pem", key = "key.pem"}} serves https and
-- wss; clients take https:// and wss:// URLs, verifying the server against the
-- system's trust store, or `ca = "file"` / `ca_pem = text`, or not at all with
-- `insecure = true` (tests with self-signed certificates). See docs/tls.md.
--
-- Every connection is one task reading its stream; replies are written without
-- waiting, and a peer that lets more than `max_send_queue` bytes pile up unread is
-- dropped (one slow reader must not stall the others). See docs/signaling.md.
local rtc = require "rtc"
local core = require "rtc.core"

local http = {}

local DEFAULTS = {
  header_timeout = 10,           -- seconds to receive a whole request (slow-loris guard)
  idle_timeout = 60,             -- seconds a keep-alive connection may sit between requests
  max_connections = 20000,
  max_send_queue = 4 * 1024 * 1024,
  index = "index.html",
}

local function copy_defaults(opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  return o
end

-- {====== WebSocket connection (both roles) ======
local WS = {}
WS.__index = WS
WS.__name = "http.websocket"
local WS_EVENTS = { message = true, close = true, ping = true, pong = true }

local function ws_new(conn, cws, role, opts)
  local self = setmetatable({
    _conn = conn, _cws = cws, role = role, _handlers = {}, _queue = {}, _qhead = 1,
    _max_send_queue = opts.max_send_queue or DEFAULTS.max_send_queue,
    state = "open",
  }, WS)
  self.remote_host, self.remote_port = conn:remote_address()
  return self
end

-- A handler that raises must not take the connection's reader down with it.
local function call(h, ...)
  local ok, err = pcall(h, ...)
  if not ok then rtc.log.error("http", "websocket handler failed: %s", tostring(err)) end
end

function WS:on(ev, fn)
  if not WS_EVENTS[ev] then error("unknown websocket event '" .. tostring(ev) .. "'", 2) end
  self._handlers[ev] = fn
  -- Messages that arrived before the handler was set go to it first, in order.
  if ev == "message" and fn then
    local q, i = self._queue, self._qhead
    self._queue, self._qhead = {}, 1
    for k = i, #q do call(fn, q[k][1], q[k][2]) end
  end
  return self
end

local function wake(self)
  local co = self._waiter
  if co then
    self._waiter = nil
    local ok, err = coroutine.resume(co)
    if not ok then rtc.log.error("http", "websocket waiter failed: %s", tostring(err)) end
  end
end

-- After our last bytes: half-close (queued writes still go out), read until the
-- peer closes or 2 s pass, then close. Must run in the connection's task.
local function linger(conn)
  if conn:is_closed() then return end
  conn:shutdown()
  local t = rtc.set_timeout(2000, function() conn:close() end)
  while conn:read() do end
  t:stop()
  conn:close()
end
http._linger = linger

-- Report close once. `abort`: drop the TCP connection now (a peer that does not
-- read); otherwise the reader task lingers so the queued close frame is delivered.
-- A close reported while the reader sits in conn:read() came from a timeout (ping
-- unanswered, no reply to our close frame): the peer is silent, so nothing would
-- ever wake that read and the connection would stay open for good. Close it here;
-- the reader then sees the end of the stream and its task ends.
local function finish(self, code, reason, clean, abort)
  if self.state == "closed" then return end
  self.state = "closed"
  self.close_code, self.close_reason = code, reason
  if self._timer then self._timer:stop(); self._timer = nil end
  if abort or self._reading then self._conn:close() end
  if self._cws then self._cws:free(); self._cws = nil end
  local h = self._handlers.close
  if h then
    local ok, err = pcall(h, code, reason, clean)
    if not ok then rtc.log.error("http", "websocket close handler: %s", tostring(err)) end
  end
  self._handlers = {}
  wake(self)
end

local arm_timer

-- Write what the machine queued; drop the peer when it does not read.
local function flush(self)
  local cws = self._cws
  if not cws then return end
  local out = cws:output()
  if out then
    local q, err = self._conn:write_nowait(out)
    if q == nil then
      finish(self, 1006, "write failed: " .. tostring(err), false, true)
      return
    end
    if q > self._max_send_queue then
      finish(self, 1008, "send queue full", false, true)
      return
    end
  end
  arm_timer(self)
end

local function dispatch(self, ev)
  local t = ev.type
  if t == "text" or t == "binary" then
    local h = self._handlers.message
    if h then
      call(h, ev.data, t == "binary")
    else
      self._queue[#self._queue + 1] = { ev.data, t == "binary" }
      wake(self)
    end
  elseif t == "close" then
    flush(self)
    finish(self, ev.code, ev.data, ev.clean)
  elseif self._handlers[t] then
    call(self._handlers[t], ev.data)
  end
end

local function drain(self)
  while self._cws do
    local ev = self._cws:poll_event()
    if not ev then break end
    flush(self)
    dispatch(self, ev)
  end
  flush(self)
end

function arm_timer(self)
  local cws = self._cws
  if not cws then return end
  local ms = cws:timeout()
  if not ms then return end
  local due = rtc.now() + ms
  -- Keep an earlier timer: when it fires the machine ignores it and we re-arm.
  if self._timer and self._timer:active() and self._due <= due + 1 then return end
  if self._timer then self._timer:stop() end
  self._due = due
  self._timer = rtc.set_timeout(ms, function()
    self._timer = nil
    if not self._cws then return end
    self._cws:handle_timeout()
    drain(self)
  end)
end

-- Feed bytes from the stream; returns false once the connection is over.
local function ws_pump(self, data)
  local pos = 1
  while pos <= #data and self._cws and self.state ~= "closed" do
    local used, err = self._cws:feed(data, pos)
    pos = pos + used
    drain(self)
    if err or used == 0 then return end
  end
end

-- The reader: runs in the connection's task until the stream ends.
local function ws_run(self, leftover)
  if leftover and leftover ~= "" then ws_pump(self, leftover) end
  while self.state ~= "closed" do
    self._reading = true
    local data = self._conn:read()
    self._reading = false
    if not data then
      if self._cws then self._cws:eof(); drain(self) end
      finish(self, 1006, "connection lost", false, true)
      break
    end
    ws_pump(self, data)
  end
  linger(self._conn)
end

local function ws_result(self, ok, err)
  if ok then flush(self); return true end
  return nil, err
end

function WS:send(text)
  if not self._cws then return nil, "InvalidStateError: websocket closed" end
  return ws_result(self, self._cws:send_text(text))
end

function WS:send_binary(data)
  if not self._cws then return nil, "InvalidStateError: websocket closed" end
  return ws_result(self, self._cws:send_binary(data))
end

--- ws:send_fragment("text"|"binary"|"continuation", data, fin)
function WS:send_fragment(kind, data, fin)
  if not self._cws then return nil, "InvalidStateError: websocket closed" end
  return ws_result(self, self._cws:send_fragment(kind, data, fin))
end

function WS:ping(data)
  if not self._cws then return nil, "InvalidStateError: websocket closed" end
  return ws_result(self, self._cws:ping(data or ""))
end

--- ws:close(code, reason): starts the closing handshake; "close" fires when it ends.
function WS:close(code, reason)
  if not self._cws or self.state ~= "open" then return true end
  self.state = "closing"
  local ok, err = self._cws:close(code or 1000, reason or "")
  if not ok then
    finish(self, code or 1000, reason, false)
    return nil, err
  end
  drain(self)
  return true
end

--- ws:abort(): drops the TCP connection without a closing handshake.
function WS:abort() finish(self, 1006, "aborted", false, true) end

--- ws:receive() -> data, is_binary | nil, close_code, reason   (yields; without a
--- "message" handler, messages queue up for this)
function WS:receive()
  while true do
    local q = self._queue
    if self._qhead <= #q then
      local m = q[self._qhead]
      q[self._qhead] = nil
      self._qhead = self._qhead + 1
      if self._qhead > #q then self._queue, self._qhead = {}, 1 end
      return m[1], m[2]
    end
    if self.state == "closed" then return nil, self.close_code, self.close_reason end
    self._waiter = coroutine.running()
    coroutine.yield()
  end
end

function WS:buffered_amount()
  return (self._conn:is_closed() and 0 or self._conn:write_queue_size()) + (self._cws and self._cws:buffered() or 0)
end

function WS:stats() return self._cws and self._cws:stats() or {} end
-- }======

-- {====== server ======
local Server = {}
Server.__index = Server
Server.__name = "http.server"

local function reply(conn, status, body, headers, keep_alive, head_only)
  headers = headers or {}
  local bytes = core.http_response(status, headers, body or "", keep_alive)
  if head_only and body and #body > 0 then
    -- HEAD: the same head (with the real Content-Length), no body.
    bytes = bytes:sub(1, #bytes - #body)
  end
  return conn:write_nowait(bytes)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

function Server:_static(req)
  local root = self.opts.static
  if not root then return nil end
  local path, err = core.http_normalize_path(req.target)
  if not path then
    if err:find("^InvalidAccessError") then return 403, "forbidden\n" end
    return 400, "bad path\n"
  end
  if path:sub(-1) == "/" then path = path .. self.opts.index end
  local data = read_file(root .. path)
  if not data then
    -- A directory without the trailing slash: read_file fails on it too.
    return nil
  end
  return 200, data, { ["Content-Type"] = core.http_content_type(path), ["Cache-Control"] = "no-cache" }
end

-- The answer for a path whose routes (method -> handler) have none for the request's.
local function not_allowed(methods)
  local allow = {}
  for m in pairs(methods) do allow[#allow + 1] = m end
  table.sort(allow)
  return 405, "method not allowed\n", { Allow = table.concat(allow, ", ") }
end

-- Runs a route's handler fn(req, ...): its status (200 if none), body and headers, or
-- a logged 500 when it raises.
local function run_route(req, fn, ...)
  local ok, status, body, headers = pcall(fn, req, ...)
  if not ok then
    rtc.log.error("http", "route %s %s failed: %s", req.method, req.path, tostring(status))
    return 500, "internal error\n"
  end
  return status or 200, body, headers
end

function Server:_handle(req)
  local routes = self._routes[req.path]
  if routes then
    local fn = routes[req.method] or routes["*"] or (req.method == "HEAD" and routes.GET)
    if not fn then return not_allowed(routes) end
    return run_route(req, fn)
  end
  -- Prefix routes (server:route_prefix), longest prefix first.
  local best
  for _, pr in ipairs(self._prefixes) do
    if req.path:sub(1, #pr.prefix) == pr.prefix and (not best or #pr.prefix > #best.prefix) then best = pr end
  end
  if best then
    local fn = best.methods[req.method] or best.methods["*"]
    if not fn then return not_allowed(best.methods) end
    return run_route(req, fn, req.path:sub(#best.prefix + 1))
  end
  if req.method == "GET" or req.method == "HEAD" then
    local status, body, headers = self:_static(req)
    if status then return status, body, headers end
  elseif self.opts.static then
    return 405, "method not allowed\n", { Allow = "GET, HEAD" }
  end
  return 404, "not found\n", { ["Content-Type"] = "text/plain; charset=utf-8" }
end

function Server:_upgrade(conn, parser, req, rest)
  local entry = self._ws[req.path]
  -- Browsers send cookies on cross-site WebSocket upgrades: an origin list stops
  -- other sites' pages from opening the socket in a visitor's name.
  -- Programs (bots, curl) send no Origin: `allow_no_origin` admits them, as nothing a
  -- page does can leave the header out.
  local origin = req.headers.origin
  if entry.origins and not (origin and entry.origins[origin] or (not origin and entry.allow_no_origin)) then
    self.stats.errors = self.stats.errors + 1
    reply(conn, 403, "origin not allowed\n", { ["Content-Type"] = "text/plain; charset=utf-8" }, false)
    return linger(conn)
  end
  local ok, bytes, proto = parser:ws_accept(entry.protocols)
  conn:write_nowait(bytes)
  if not ok then return linger(conn) end
  parser:close()
  local o = self.opts
  local cws = core.ws_new { role = "server", max_message = o.max_message, ping_interval = o.ping_interval,
                            close_timeout = o.close_timeout }
  local ws = ws_new(conn, cws, "server", o)
  ws.protocol, ws.request = proto, req
  self.stats.websockets = self.stats.websockets + 1
  self._conns[conn] = ws
  local ok2, err = pcall(entry.fn, ws, req)
  if not ok2 then
    rtc.log.error("http", "websocket handler %s failed: %s", req.path, tostring(err))
    ws:close(1011, "internal error")
  end
  ws_run(ws, rest)
  self.stats.websockets = self.stats.websockets - 1
end

function Server:_serve(conn)
  local o = self.opts
  local parser = core.http_parser("request", o.limits)
  local timer
  local function arm(seconds)
    if timer then timer:stop() end
    timer = rtc.set_timeout(seconds * 1000, function() timer = nil; conn:close() end)
  end
  arm(o.header_timeout)
  local started = false
  while true do
    local data = conn:read()
    if not data then break end
    if not started then started = true; arm(o.header_timeout) end
    local pos = 1
    while pos <= #data do
      local used, req, status, err = parser:feed(data, pos)
      pos = pos + used
      if req then
        self.stats.requests = self.stats.requests + 1
        if req.upgrade and self._ws[req.path] and req.method == "GET" then
          if timer then timer:stop(); timer = nil end
          return self:_upgrade(conn, parser, req, data:sub(pos))
        end
        -- An upgrade we do not serve: answer it, then end (the parser stops at upgrades).
        local keep = req.keep_alive and not req.upgrade and not self._closing
        local st, body, headers = self:_handle(req)
        reply(conn, st, body, headers, keep, req.method == "HEAD")
        if not keep then
          if timer then timer:stop() end
          return linger(conn)
        end
        started = pos <= #data
        arm(started and o.header_timeout or o.idle_timeout)
      elseif status then
        if status > 0 then
          self.stats.errors = self.stats.errors + 1
          reply(conn, status, (err or "bad request") .. "\n", { ["Content-Type"] = "text/plain; charset=utf-8" }, false)
        end
        if timer then timer:stop() end
        return linger(conn)
      elseif used == 0 then
        break
      end
    end
  end
  if timer then timer:stop() end
  conn:close()
end

--- server:route(method, path, fn(req) -> status, body, headers). method "*" = any.
function Server:route(method, path, fn)
  local r = self._routes[path] or {}
  r[method] = fn
  self._routes[path] = r
  return self
end

--- server:route_prefix(method, prefix, fn(req, rest) -> status, body, headers): every path
--- starting with prefix that has no exact route (the longest matching prefix wins);
--- rest is the path after the prefix. method "*" = any.
function Server:route_prefix(method, prefix, fn)
  for _, pr in ipairs(self._prefixes) do
    if pr.prefix == prefix then pr.methods[method] = fn; return self end
  end
  self._prefixes[#self._prefixes + 1] = { prefix = prefix, methods = { [method] = fn } }
  return self
end

--- server:websocket(path, fn(ws, req), {protocols = {...}, origins = {"http://host:port", ...},
---   allow_no_origin = bool})
--- With `origins`, an upgrade whose Origin header is not listed gets 403; one without
--- an Origin header too, unless `allow_no_origin`.
function Server:websocket(path, fn, opts)
  local origins
  if opts and opts.origins then
    origins = {}
    for _, o in ipairs(opts.origins) do origins[o] = true end
  end
  self._ws[path] = { fn = fn, protocols = opts and opts.protocols, origins = origins,
                     allow_no_origin = opts and opts.allow_no_origin or false }
  return self
end

function Server:address() return self._listener:local_address() end

--- server:close(): stops listening; WebSockets get 1001 (going away), HTTP connections end.
function Server:close()
  if self._closing then return end
  self._closing = true
  self._listener:close()
  for conn, ws in pairs(self._conns) do
    if ws == true then conn:close() else ws:close(1001, "server shutting down") end
  end
end

--- http.server{host=, port=, static=dir, index=, limits={max_body=, ...}, header_timeout=,
---   idle_timeout=, max_connections=, max_message=, ping_interval=ms, close_timeout=ms,
---   max_send_queue=, tls={cert=, key=} | {cert_pem=, key_pem=}} -> server | nil, err
function http.server(opts)
  local o = copy_defaults(opts)
  local tls
  if o.tls ~= nil then
    if type(o.tls) ~= "table" then error("http.server: tls must be a table {cert=, key=}", 2) end
    local e
    tls, e = core.tls_context { server = true, cert = o.tls.cert, key = o.tls.key,
                                cert_pem = o.tls.cert_pem, key_pem = o.tls.key_pem, alpn = "http/1.1" }
    if not tls then return nil, e end
  end
  local listener, err = rtc.tcp_listen { host = o.host or "127.0.0.1", port = o.port or 0, backlog = o.backlog, tls = tls }
  if not listener then return nil, err end
  local self = setmetatable({ opts = o, _listener = listener, _routes = {}, _prefixes = {}, _ws = {},
                              _conns = setmetatable({}, { __mode = "k" }),
                              stats = { connections = 0, requests = 0, errors = 0, websockets = 0, refused = 0 } }, Server)
  self.host, self.port = listener:local_address()
  self.scheme = tls and "https" or "http"
  listener:on("connection", function(conn)
    if self.stats.connections >= o.max_connections or self._closing then
      self.stats.refused = self.stats.refused + 1
      conn:close()
      return
    end
    self.stats.connections = self.stats.connections + 1
    self._conns[conn] = true
    rtc.spawn(function()
      local ok, e = pcall(self._serve, self, conn)
      if not ok then rtc.log.error("http", "connection failed: %s", tostring(e)) end
      conn:close()
      self._conns[conn] = nil
      self.stats.connections = self.stats.connections - 1
    end)
  end)
  return self
end
-- }======

-- {====== clients ======
local function parse_url(url)
  local scheme, host, port, target = url:match("^(%a+)://([^/:]+):?(%d*)(.*)$")
  if not scheme then
    scheme, host, port, target = url:match("^(%a+)://%[([^%]]+)%]:?(%d*)(.*)$")
    if not scheme then return nil end
  end
  if target == "" then target = "/" end
  port = tonumber(port) or (scheme == "wss" or scheme == "https") and 443 or 80
  return scheme, host, port, target
end
http.parse_url = parse_url

local function host_header(host, port)
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  return host .. ":" .. port
end

-- Connects for a URL's scheme: TLS for https/wss (opts.ca, ca_pem, insecure, servername).
local function connect(scheme, host, port, opts)
  if scheme == "http" or scheme == "ws" then return rtc.tcp_connect(host, port) end
  local ctx, err = core.tls_context { ca = opts.ca, ca_pem = opts.ca_pem, insecure = opts.insecure,
                                      alpn = "http/1.1" }
  if not ctx then return nil, err end
  return rtc.tcp_connect(host, port, { tls = ctx, servername = opts.servername })
end

-- Connects to url, whose scheme must be `plain` or `secure` (else: nil, `unsupported`
-- and the URL), with a timer that closes the connection after opts.timeout seconds
-- (10 by default). Returns conn, timer, host, port, target, or nil, err.
local function open(url, opts, plain, secure, unsupported)
  local scheme, host, port, target = parse_url(url)
  if scheme ~= plain and scheme ~= secure then return nil, unsupported .. tostring(url) end
  local conn, err = connect(scheme, host, port, opts)
  if not conn then return nil, err end
  local timer = rtc.set_timeout((opts.timeout or 10) * 1000, function() conn:close() end)
  return conn, timer, host, port, target
end

-- Gives up on a connection open() made: nil, err.
local function abandon(conn, timer, err)
  timer:stop()
  conn:close()
  return nil, err
end

--- http.ws_connect(url, {protocols=, origin=, max_message=, ping_interval=, timeout=,
---   ca=, ca_pem=, insecure=, servername=}) -> ws | nil, err  (yields)
function http.ws_connect(url, opts)
  opts = opts or {}
  local conn, timer, host, port, target = open(url, opts, "ws", "wss", "SyntaxError: unsupported WebSocket URL ")
  if not conn then return nil, timer end
  local req, key = core.ws_client_request(host_header(host, port), target, opts.origin, opts.protocols)
  if not req then return abandon(conn, timer, key) end
  conn:write_nowait(req)
  local parser = core.http_parser("response")
  local resp, rest
  while not resp do
    local data = conn:read()
    if not data then return abandon(conn, timer, "NetworkError: connection closed during the WebSocket handshake") end
    local used, msg, status, perr = parser:feed(data, 1)
    if msg then resp, rest = msg, data:sub(used + 1)
    elseif status then return abandon(conn, timer, "SyntaxError: bad handshake response: " .. tostring(perr)) end
  end
  timer:stop()
  local ok, proto = parser:ws_check(key, opts.protocols)
  parser:close()
  if not ok then
    conn:close()
    return nil, proto .. " " .. (resp.status and ("(HTTP " .. resp.status .. ")") or ""), resp
  end
  local cws = core.ws_new { role = "client", max_message = opts.max_message, ping_interval = opts.ping_interval,
                            close_timeout = opts.close_timeout }
  local ws = ws_new(conn, cws, "client", opts)
  ws.protocol = proto
  -- Start reading on the next loop turn, so the caller can install handlers before
  -- the frames that came with the handshake response are delivered.
  rtc.set_timeout(0, function() rtc.spawn(ws_run, ws, rest) end)
  return ws
end

--- http.request(url, {method=, headers=, body=, timeout=, ca=, ca_pem=, insecure=,
---   servername=}) -> response | nil, err  (yields)
--- One request on its own connection; response has status, headers, body.
function http.request(url, opts)
  opts = opts or {}
  local conn, timer, host, port, target = open(url, opts, "http", "https", "SyntaxError: unsupported URL ")
  if not conn then return nil, timer end
  local headers = { Host = host_header(host, port), Connection = "close" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local method = opts.method or "GET"
  conn:write_nowait(core.http_request(method, target, headers, opts.body))
  local parser = core.http_parser("response", { max_body = opts.max_body })
  if method == "HEAD" then parser:expect_no_body() end
  local resp
  while not resp do
    local data = conn:read()
    if not data then
      local msg, e2 = parser:eof()
      resp = msg
      if not resp then return abandon(conn, timer, e2 or "NetworkError: connection closed") end
      break
    end
    local pos = 1
    while pos <= #data and not resp do
      local used, msg, status, perr = parser:feed(data, pos)
      pos = pos + used
      if msg then resp = msg
      elseif status then return abandon(conn, timer, "SyntaxError: " .. tostring(perr))
      elseif used == 0 then break end
    end
  end
  timer:stop()
  conn:close()
  parser:close()
  return resp
end
-- }======

return http
