-- WHIP (RFC 9725) and WHEP endpoints on an http.server, publishing into and subscribing
-- from rtc.sfu rooms. See docs/sfu.md.
--
--   local whip = require "whip"
--   local svc = whip.serve(srv, { pc = { udp_mux = mux }, authorize = function(req, kind, room, token) ... end })
--
--   POST   /whip[/ROOM]       application/sdp offer -> 201 + answer + Location /whip/ROOM/ID
--   POST   /whep[/ROOM]       the same for a subscriber (503 + Retry-After when nothing is published)
--   PATCH  Location           application/trickle-ice-sdpfrag: remote candidates -> 204
--   DELETE Location           ends the session -> 200
-- Answers carry all our candidates (gathering is complete before the reply).
local rtc = require "rtc"
local sfu = require "rtc.sfu"

local M = {}

local SDP = { ["Content-Type"] = "application/sdp" }
local TEXT = { ["Content-Type"] = "text/plain; charset=utf-8" }

-- Pages on other origins publish with fetch() (WHIP section 4.7): every answer allows
-- any origin and exposes Location; OPTIONS answers the preflight.
local CORS = {
  ["Access-Control-Allow-Origin"] = "*",
  ["Access-Control-Expose-Headers"] = "Location, Retry-After, WWW-Authenticate",
}
local function cors(h)
  for k, v in pairs(CORS) do h[k] = v end
  return h
end
local function preflight()
  return 204, "", cors { ["Access-Control-Allow-Methods"] = "POST, PATCH, DELETE, OPTIONS",
                         ["Access-Control-Allow-Headers"] = "Content-Type, Authorization",
                         ["Access-Control-Max-Age"] = "600" }
end

local function text(status, msg, extra)
  local h = cors { ["Content-Type"] = TEXT["Content-Type"] }
  for k, v in pairs(extra or {}) do h[k] = v end
  return status, msg .. "\n", h
end

local function random_id()
  local f = io.open("/dev/urandom", "rb")
  local b = f and f:read(12)
  if f then f:close() end
  if not b or #b ~= 12 then b = tostring(math.random()) .. tostring(rtc.now()) end
  return (b:gsub(".", function(c) return string.format("%02x", c:byte()) end)):sub(1, 24)
end

-- What a section's a=content (RFC 4796) says the media is: slides are a screen share.
local CONTENT_SOURCE = { slides = "screen", main = "camera", speaker = "camera", sl = "screen" }

-- The m= sections of an SDP: { {kind=, mid=, dir=, content=}, ... } in order.
local function sections(sdp)
  local out, cur = {}, nil
  for line in sdp:gmatch("[^\r\n]+") do
    local kind = line:match("^m=(%a+) ")
    if kind then
      cur = { kind = kind, dir = "sendrecv" }
      out[#out + 1] = cur
    elseif cur then
      local mid = line:match("^a=mid:(%S+)")
      if mid then cur.mid = mid end
      local content = line:match("^a=content:(%S+)")
      if content then cur.content = content:lower() end
      local d = line:match("^a=(%a+)$")
      if d == "sendonly" or d == "recvonly" or d == "inactive" or d == "sendrecv" then cur.dir = d end
    end
  end
  return out
end

local function offered(secs, tr)
  local mid = tr.mid
  for _, s in ipairs(secs) do if s.mid == mid then return s end end
  return nil
end

-- The source of a published section: a=content when the offer says, else by kind.
local function source_of(sec, kind)
  local c = sec and sec.content
  if c then return CONTENT_SOURCE[c] or c end
  return kind == "audio" and "microphone" or "camera"
end

local function strip_name(err) return (tostring(err):gsub("^%a+Error: ", "")) end

--- whip.serve(server, opts) -> service
--- opts: whip_path ("/whip"), whep_path ("/whep"), default_room ("default"),
---   pc (rtc.peer_connection config for every session, e.g. {udp_mux = mux}),
---   authorize = fn(req, kind "whip"|"whep", room_name, bearer_token|nil) -> true | false, message[, status]
---     (refusal: 403 with the message unless status says otherwise, e.g. 401),
---   whep_wait (seconds a WHEP request waits for a publisher; 0 = answer 503 at once),
---   retry_after (seconds, in the 503's Retry-After; 2).
---   on_room = fn(room): called once for each room a request first names (set hooks or
---     a policy there, before anything is published in it).
--- The rooms' own hooks (sfu.room{can_join=, can_publish=, can_subscribe=}) are asked
--- too: their refusal gives 403 with their message. A published track's source is what
--- its section's a=content (RFC 4796) says ("slides" -> "screen", "main" -> "camera"),
--- else "camera" for video and "microphone" for audio.
function M.serve(srv, opts)
  opts = opts or {}
  local whip_path, whep_path = opts.whip_path or "/whip", opts.whep_path or "/whep"
  local default_room = opts.default_room or "default"
  local svc = { sessions = {}, stats = { whip = 0, whep = 0, refused = 0, deleted = 0 } }
  local seen_rooms = setmetatable({}, { __mode = "k" })

  local function location(base, room, id) return base .. "/" .. room .. "/" .. id end

  local function end_session(id)
    local s = svc.sessions[id]
    if not s then return false end
    svc.sessions[id] = nil
    s.pc:close()
    return true
  end

  local function authorize(req, kind, room)
    if not opts.authorize then return true end
    local token = (req.headers.authorization or ""):match("^[Bb]earer%s+(%S+)%s*$")
    local ok, msg, status = opts.authorize(req, kind, room, token)
    if ok == true then return true end
    svc.stats.refused = svc.stats.refused + 1
    status = status or 403
    local extra = status == 401 and { ["WWW-Authenticate"] = "Bearer" } or nil
    return false, status, msg or "not allowed", extra
  end

  local function start(req, kind, room_name, base)
    local ctype = (req.headers["content-type"] or ""):match("^%s*([^;%s]+)")
    if not ctype or ctype:lower() ~= "application/sdp" then return text(415, "an application/sdp offer expected") end
    if not req.body or not req.body:find("^v=0") then return text(400, "the body is not an SDP offer") end
    local ok, status, msg, extra = authorize(req, kind, room_name)
    if not ok then return text(status, msg, extra) end
    local room = sfu.room { name = room_name }
    if opts.on_room and not seen_rooms[room] then
      seen_rooms[room] = true
      opts.on_room(room)
    end
    if kind == "whep" and #room:producers() == 0 then
      local deadline = rtc.now() + (opts.whep_wait or 0) * 1000
      while #room:producers() == 0 and rtc.now() < deadline do rtc.sleep(0.05) end
      if #room:producers() == 0 then
        return text(503, "nothing is published in this room yet", { ["Retry-After"] = tostring(opts.retry_after or 2) })
      end
    end
    local pc, perr = rtc.peer_connection(opts.pc or {})
    if not pc then return text(500, tostring(perr)) end
    local joined, jerr = room:join(pc, req)
    if not joined then
      pc:close()
      svc.stats.refused = svc.stats.refused + 1
      return text(tostring(jerr):match("^NotAllowedError") and 403 or 500, strip_name(jerr))
    end
    local okr, rerr = pc:set_remote_description { type = "offer", sdp = req.body }
    if not okr then pc:close(); return text(400, strip_name(rerr)) end
    local secs = sections(req.body)
    local used = {}
    for _, tr in ipairs(pc:get_transceivers()) do
      local sec = offered(secs, tr)
      local dir = sec and sec.dir
      local res, err
      if kind == "whip" and (dir == "sendonly" or dir == "sendrecv") then
        res, err = room:publish(tr.receiver.track, { info = req, source = source_of(sec, tr.kind) })
      elseif kind == "whep" and (dir == "recvonly" or dir == "sendrecv") then
        local src
        for _, p in ipairs(room:producers()) do
          if p.kind == tr.kind and not used[p] then src = p; break end
        end
        if src then
          used[src] = true
          res, err = room:subscribe(pc, src, { info = req })
        else
          res = true                            -- nothing of that kind: the answer says inactive
        end
      else
        res = true
      end
      if not res then
        pc:close()
        svc.stats.refused = svc.stats.refused + 1
        local name = tostring(err):match("^(%a+Error)")
        return text(name == "NotAllowedError" and 403 or 500, strip_name(err))
      end
    end
    local answer, aerr = pc:create_answer()
    if not answer then pc:close(); return text(400, strip_name(aerr)) end
    local okl, lerr = pc:set_local_description(answer)
    if not okl then pc:close(); return text(500, strip_name(lerr)) end
    pc:wait_gathering_complete()
    if pc._closed then return text(500, "the session closed while it was set up") end
    local id = random_id()
    local s = { id = id, pc = pc, room = room, kind = kind }
    svc.sessions[id] = s
    pc:on("connectionstatechange", function(state)
      if (state == "failed" or state == "closed") and svc.sessions[id] == s then end_session(id) end
    end)
    svc.stats[kind] = svc.stats[kind] + 1
    local h = cors { ["Content-Type"] = SDP["Content-Type"], Location = location(base, room_name, id) }
    return 201, pc.local_description.sdp, h
  end

  -- PATCH with an SDP fragment: its candidates (RFC 8840), per a=mid.
  local function trickle(req, s)
    local ctype = (req.headers["content-type"] or ""):match("^%s*([^;%s]+)")
    if not ctype or ctype:lower() ~= "application/trickle-ice-sdpfrag" then
      return text(415, "an application/trickle-ice-sdpfrag body expected")
    end
    local mid
    for line in (req.body or ""):gmatch("[^\r\n]+") do
      local m = line:match("^a=mid:(%S+)")
      if m then mid = m end
      local c = line:match("^a=(candidate:.+)$")
      if c then
        local ok, err = s.pc:add_ice_candidate { candidate = c, sdp_mid = mid or "0" }
        if not ok then return text(400, strip_name(err)) end
      elseif line == "a=end-of-candidates" then
        s.pc:add_ice_candidate(nil)
      end
    end
    return 204, "", cors {}
  end

  local function routes(base, kind)
    local function post(req, room_name)
      if room_name ~= default_room and not room_name:match("^[%w_.%-]+$") then return text(400, "bad room name") end
      return start(req, kind, room_name, base)
    end
    srv:route("POST", base, function(req) return post(req, default_room) end)
    srv:route("OPTIONS", base, preflight)
    srv:route_prefix("*", base .. "/", function(req, rest)
      if req.method == "OPTIONS" then return preflight() end
      local room_name, id = rest:match("^([^/]+)/([%x]+)$")
      if req.method == "POST" then
        if rest:find("/", 1, true) or rest == "" then return text(405, "POST to the room, not to a session") end
        return post(req, rest)
      end
      local s = id and svc.sessions[id]
      if not s or s.room.name ~= room_name or s.kind ~= kind then return text(404, "no such session") end
      if req.method == "DELETE" then
        end_session(id)
        svc.stats.deleted = svc.stats.deleted + 1
        return 200, "", cors {}
      elseif req.method == "PATCH" then
        return trickle(req, s)
      end
      return text(405, "method not allowed", { Allow = "DELETE, PATCH" })
    end)
  end
  routes(whip_path, "whip")
  routes(whep_path, "whep")

  --- svc:close(): ends every session.
  function svc.close()
    for id in pairs(svc.sessions) do end_session(id) end
  end
  return svc
end

return M
