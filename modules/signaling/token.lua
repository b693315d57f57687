-- Signed join tokens and TURN REST credentials (docs/signaling.md, "Tokens").
--
-- A token is  base64url(claims JSON) "." base64url(HMAC-SHA256(secret, first part))
-- with claims {room=, peer=(optional), exp=unix seconds}. The MAC covers the encoded
-- claims exactly as sent, so no canonical JSON form is needed to verify.
local rtc = require "rtc"
local core = require "rtc.core"
local json = rtc.json

local M = {}

--- token.make(secret, {room=, peer=, exp= | ttl=seconds, now=}) -> token
function M.make(secret, claims)
  assert(type(secret) == "string" and secret ~= "", "token.make: secret required")
  local c = { room = claims.room, peer = claims.peer,
              exp = claims.exp or math.floor((claims.now or os.time()) + (claims.ttl or 3600)) }
  for k, v in pairs(claims) do
    if c[k] == nil and k ~= "ttl" and k ~= "now" then c[k] = v end
  end
  local body = core.base64_encode(json.encode(c), true)
  return body .. "." .. core.base64_encode(core.hmac_sha256(secret, body), true)
end

--- token.verify(secret, token, now) -> claims | nil, "bad" | "expired", reason
function M.verify(secret, token, now)
  if type(token) ~= "string" or #token > 4096 then return nil, "bad", "missing token" end
  local body, mac = token:match("^([%w_-]+)%.([%w_-]+)$")
  if not body then return nil, "bad", "malformed token" end
  local want = core.base64_encode(core.hmac_sha256(secret, body), true)
  if not core.ct_equal(want, mac) then return nil, "bad", "bad token signature" end
  local raw = core.base64_decode(body, true)
  local claims = raw and json.decode(raw)
  if type(claims) ~= "table" or type(claims.exp) ~= "number" then return nil, "bad", "malformed token claims" end
  if claims.exp <= (now or os.time()) then return nil, "expired", "token expired" end
  return claims
end

--- token.turn_credentials(secret, user, ttl, now) -> username, password, expiry
--- The TURN REST form coturn checks with use-auth-secret: username "expiry:user",
--- password base64(HMAC-SHA1(secret, username)).
function M.turn_credentials(secret, user, ttl, now)
  local expiry = math.floor((now or os.time()) + (ttl or 86400))
  local username = user and user ~= "" and (expiry .. ":" .. user) or tostring(expiry)
  return username, core.base64_encode(core.hmac_sha1(secret, username)), expiry
end

return M
