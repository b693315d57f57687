-- turn: a STUN/TURN server (RFC 8489 / RFC 8656) on the luartc loop.
--
--   local turn = require "turn"
--   local srv = assert(turn.server {
--     listen = { "127.0.0.1:3478" }, tcp = true, realm = "example.org",
--     tls = { listen = "127.0.0.1:5349", cert = "cert.pem", key = "key.pem" },  -- turns:
--     users = { alice = "secret" },                 -- and/or
--     auth = function(user, realm) return lookup(user) end,
--     secret = "rest-shared-secret",                -- TURN REST ephemeral credentials
--     relay_ip = "127.0.0.1", min_port = 49152, max_port = 65535,
--     allow_loopback = true,                        -- tests only
--     quota = { total = 1000, per_user = 10, bandwidth = 1e6 },   -- 0 = no cap
--     -- (defaults: per_user 100, bandwidth 2e6 bytes/s, tcp_per_ip 64)
--     on_allocate = function(info) return true end,
--     on_permission = function(info) return info.peer ~= "198.51.100.7:0" end,
--   })
--   srv:on("allocate", function(info) ... end)      -- also "deallocate", "permission", "close"
--   srv:get_stats(); srv:close()
--
-- All packets stay in C; Lua only sees allocations, permissions and policy questions.
-- See docs/turn-server.md.
local core = require "rtc.core"

local turn = {}

-- Allocations one username may hold, and bytes/s per allocation and direction (about
-- 16 Mbit/s: several HD video streams), unless the quota says otherwise.
turn.DEFAULT_PER_USER = 100
turn.DEFAULT_BANDWIDTH = 2000000

local function list(v)
  if v == nil then return nil end
  if type(v) == "string" then return { v } end
  return v
end

local function check_fn(opts, k)
  local v = opts[k]
  if v ~= nil and type(v) ~= "function" and not (getmetatable(v) or {}).__call then
    error(("turn.server: %s must be a function"):format(k), 3)
  end
  return v
end

--- turn.server(opts) -> server | nil, err
function turn.server(opts)
  if type(opts) ~= "table" then error("bad argument #1 to 'turn.server' (table expected)", 2) end
  if type(opts.realm) ~= "string" or opts.realm == "" then
    error("turn.server: realm (string) is required", 2)
  end
  local listen = list(opts.listen) or { "0.0.0.0:3478" }
  local quota = opts.quota or {}
  local tls = opts.tls
  if tls ~= nil then
    if type(tls) ~= "table" then error("turn.server: tls must be a table {listen=, cert=, key=}", 2) end
    if not ((tls.cert and tls.key) or (tls.cert_pem and tls.key_pem)) then
      error("turn.server: tls needs cert and key (PEM files) or cert_pem and key_pem", 2)
    end
  end
  local cfg = {
    listen = listen,
    tcp = opts.tcp and true or false,
    tls_listen = tls and (list(tls.listen) or { "0.0.0.0:5349" }),
    tls_cert = tls and tls.cert,
    tls_key = tls and tls.key,
    tls_cert_pem = tls and tls.cert_pem,
    tls_key_pem = tls and tls.key_pem,
    realm = opts.realm,
    software = opts.software or "luartc",
    secret = opts.secret,
    relay_ip = opts.relay_ip,
    relay_ip6 = opts.relay_ip6,
    -- the server picks relay ports itself (it needs to, to keep EVEN-PORT pairs);
    -- min_port = 0, max_port = 0 leaves the choice to the OS instead
    min_port = opts.min_port or 49152,
    max_port = opts.max_port or 65535,
    users = opts.users,
    auth = check_fn(opts, "auth"),
    on_allocate = check_fn(opts, "on_allocate"),
    on_permission = check_fn(opts, "on_permission"),
    allow_loopback = opts.allow_loopback,
    allow_private = opts.allow_private,
    allow_link_local = opts.allow_link_local,
    deny = list(opts.deny),
    allow = list(opts.allow),
    lifetime = opts.lifetime,
    max_lifetime = opts.max_lifetime,
    permission_lifetime = opts.permission_lifetime,
    channel_lifetime = opts.channel_lifetime,
    nonce_lifetime = opts.nonce_lifetime,
    max_allocations = quota.total or opts.max_allocations,
    -- Defaults that keep one credential from taking the whole server; 0 lifts a cap.
    max_per_user = quota.per_user or opts.max_per_user or turn.DEFAULT_PER_USER,
    bandwidth = math.floor(quota.bandwidth or opts.bandwidth or turn.DEFAULT_BANDWIDTH),
    max_permissions = quota.permissions or opts.max_permissions,
    max_channels = quota.channels or opts.max_channels,
    max_tcp_conns = quota.tcp_connections or opts.max_tcp_conns,
    max_tcp_per_ip = quota.tcp_per_ip or opts.max_tcp_per_ip,
  }
  if cfg.users ~= nil and type(cfg.users) ~= "table" then
    error("turn.server: users must be a table {name = password}", 2)
  end
  return core.turn_server(cfg)
end

--- turn.rest_credentials(secret, user, ttl_seconds) -> username, password
-- The TURN REST API pair a web application hands to a browser: the username is
-- "expiry:user" and the password base64(HMAC-SHA1(secret, username)).
function turn.rest_credentials(secret, user, ttl)
  local expiry = os.time() + (ttl or 86400)
  local username = user and (expiry .. ":" .. user) or tostring(expiry)
  return username, core.turn_rest_password(secret, username)
end

return turn
