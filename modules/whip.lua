-- WHIP (RFC 9725) and WHEP endpoints on an http.server, publishing into and subscribing
-- from rtc.sfu rooms. See docs/sfu.md.
--
--   local whip = require "whip"
--   local svc = whip.serve(srv, { pc = { udp_mux = mux }, authorize = function(req, kind, room, token) ... end })
--
--   POST   /whip[/ROOM]       application/sdp offer -> 201 + answer + Location /whip/ROOM/ID
--   POST   /whep[/ROOM]       the same for a subscriber (503 + Retry-After when nothing is published)
--   PATCH  Location           application/trickle-ice-sdpfrag, If-Match: ETag -> candidates added, 204;
--                             If-Match: * -> ICE restart, 200 + our new credentials and candidates
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
  ["Access-Control-Expose-Headers"] = "Location, Retry-After, WWW-Authenticate, ETag",
}
local function cors(h)
  for k, v in pairs(CORS) do h[k] = v end
  return h
end
local function preflight()
  return 204, "", cors { ["Access-Control-Allow-Methods"] = "POST, PATCH, DELETE, OPTIONS",
                         ["Access-Control-Allow-Headers"] = "Content-Type, Authorization, If-Match",
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

-- A strong entity-tag naming one ICE session of a WHIP/WHEP session (RFC 9725 4.3.1).
local function new_etag() return '"' .. random_id() .. '"' end

local function strip_name(err) return (tostring(err):gsub("^%a+Error: ", "")) end

--- whip.serve(server, opts) -> service
--- opts: whip_path ("/whip"), whep_path ("/whep"), default_room ("default"),
---   pc (rtc.peer_connection config for every session, e.g. {udp_mux = mux}),
---   authorize = fn(req, kind "whip"|"whep", room_name, bearer_token|nil) -> true | false, message[, status]
---     (refusal: 403 with the message unless status says otherwise, e.g. 401),
---   whep_wait (seconds a WHEP request waits for a publisher; 0 = answer 503 at once),
---   retry_after (seconds, in the 503's Retry-After; 2),
---   trickle, ice_restart (false: PATCH refuses that kind with 422, both false: 405),
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
    local s = { id = id, pc = pc, room = room, kind = kind, etag = new_etag(),
                remote_ufrag = req.body:match("a=ice%-ufrag:([^\r\n]+)") }
    svc.sessions[id] = s
    pc:on("connectionstatechange", function(state)
      if (state == "failed" or state == "closed") and svc.sessions[id] == s then end_session(id) end
    end)
    svc.stats[kind] = svc.stats[kind] + 1
    local h = cors { ["Content-Type"] = SDP["Content-Type"], Location = location(base, room_name, id), ETag = s.etag }
    return 201, pc.local_description.sdp, h
  end

  -- A PATCH body (RFC 8840 SDP fragment): its ICE credentials and candidates per a=mid.
  -- nil when a line is not an a= or m= line (RFC 8840 section 9.2 allows nothing else)
  -- or there is no line at all.
  local function parse_frag(body)
    local f, mid, n = { cands = {} }, nil, 0
    for line in (body or ""):gmatch("[^\r\n]+") do
      if not line:match("^[am]=%S") then return nil end
      n = n + 1
      local m = line:match("^a=mid:(%S+)")
      if m then mid = m end
      f.ufrag = line:match("^a=ice%-ufrag:(%S+)") or f.ufrag
      f.pwd = line:match("^a=ice%-pwd:(%S+)") or f.pwd
      f.first_m = f.first_m or line:match("^(m=.+)$")
      local c = line:match("^a=(candidate:.+)$")
      if c then f.cands[#f.cands + 1] = { candidate = c, sdp_mid = mid or "0" } end
      if line == "a=end-of-candidates" then f.done = true end
    end
    return n > 0 and f or nil
  end

  local function add_cands(pc, f)
    for _, c in ipairs(f.cands) do
      local ok, err = pc:add_ice_candidate(c)
      if not ok then return nil, err end
    end
    if f.done then pc:add_ice_candidate(nil) end
    return true
  end

  -- If-Match (RFC 9110 section 13.1.1): "*" or a list of entity-tags, weak ones never match.
  local function if_match(header, etag)
    for tag in header:gmatch("[^,]+") do
      tag = tag:match("^%s*(.-)%s*$")
      if tag == etag then return true end
    end
    return false
  end

  -- Trickle (RFC 9725 section 4.3.2): candidates for the current ICE session -> 204.
  local function trickle(s, f)
    if f.ufrag and f.ufrag ~= s.remote_ufrag then
      return text(422, "the fragment's ice-ufrag is not the one of this ICE session")
    end
    local ok, err = add_cands(s.pc, f)
    if not ok then return text(400, strip_name(err)) end
    return 204, "", cors { ETag = s.etag }
  end

  -- ICE restart (RFC 9725 section 4.3.3): the client's new credentials and candidates
  -- replace the old ones in its offer, which is applied again (nothing else changes, so
  -- no media renegotiation); our answer brings new credentials, sent back as a fragment
  -- with all our candidates and a new entity-tag. A failure keeps the old ICE session.
  local function restart(s, f)
    if not (f.ufrag and f.pwd) then return text(400, "an ICE restart needs a=ice-ufrag and a=ice-pwd") end
    if f.ufrag == s.remote_ufrag then return text(422, "an ICE restart needs a new ice-ufrag") end
    local pc = s.pc
    local offer = pc.remote_description.sdp
      :gsub("a=ice%-ufrag:[^\r\n]*", "a=ice-ufrag:" .. f.ufrag)
      :gsub("a=ice%-pwd:[^\r\n]*", "a=ice-pwd:" .. f.pwd)
      :gsub("a=candidate:[^\r\n]*\r?\n", ""):gsub("a=end%-of%-candidates\r?\n", "")
    local ok, err = pc:set_remote_description { type = "offer", sdp = offer }
    if not ok then return text(422, strip_name(err)) end
    local answer, aerr = pc:create_answer()
    if not answer then pc:set_remote_description { type = "rollback" }; return text(500, strip_name(aerr)) end
    local okl, lerr = pc:set_local_description(answer)
    if not okl then return text(500, strip_name(lerr)) end
    s.remote_ufrag = f.ufrag
    local okc, cerr = add_cands(pc, f)
    if not okc then return text(400, strip_name(cerr)) end
    pc:wait_gathering_complete()
    if pc._closed then return text(500, "the session closed during the ICE restart") end
    local sdp = pc.local_description.sdp
    local out = { "a=ice-ufrag:" .. sdp:match("a=ice%-ufrag:([^\r\n]+)"),
                  "a=ice-pwd:" .. sdp:match("a=ice%-pwd:([^\r\n]+)") }
    -- max-bundle: the candidates of the first m= section stand for all of them
    local sec = sdp:match("\r?\n(m=.-)\r?\nm=") or sdp:match("\r?\n(m=.*)$")
    out[#out + 1] = sec:match("^(m=[^\r\n]+)")
    out[#out + 1] = "a=mid:" .. (sec:match("a=mid:([^\r\n]+)") or "0")
    for c in sec:gmatch("a=candidate:[^\r\n]+") do out[#out + 1] = c end
    out[#out + 1] = "a=end-of-candidates"
    s.etag = new_etag()
    return 200, table.concat(out, "\r\n") .. "\r\n",
           cors { ["Content-Type"] = "application/trickle-ice-sdpfrag", ETag = s.etag }
  end

  -- PATCH on a session (RFC 9725 section 4.3.1). If-Match "*" asks for an ICE restart;
  -- otherwise it must name the current ICE session's entity-tag (428 without it, 412
  -- for another one: a trickle meant for an ICE session that was restarted since).
  local function patch(req, s)
    local can_trickle, can_restart = opts.trickle ~= false, opts.ice_restart ~= false
    if not can_trickle and not can_restart then
      return text(405, "this server takes no PATCH", { Allow = "DELETE" })
    end
    local ctype = (req.headers["content-type"] or ""):match("^%s*([^;%s]+)")
    if not ctype or ctype:lower() ~= "application/trickle-ice-sdpfrag" then
      return text(415, "an application/trickle-ice-sdpfrag body expected")
    end
    local im = req.headers["if-match"]
    if not im then return text(428, "an If-Match header with the session's ETag (or \"*\" to restart ICE) is required") end
    local f = parse_frag(req.body)
    if not f then return text(400, "the body is not an SDP fragment (RFC 8840)") end
    if im:match("^%s*%*%s*$") then
      if not can_restart then return text(422, "this server does not restart ICE") end
      return restart(s, f)
    end
    if not if_match(im, s.etag) then
      return text(412, "the ICE session changed", { ETag = s.etag })
    end
    if not can_trickle then return text(422, "this server takes no trickled candidates") end
    return trickle(s, f)
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
        return patch(req, s)
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
