-- stats: a live page of every peer connection in the process, for any http.server.
--
--   local stats = require "stats"
--   local page = stats.mount(server, "/stats", { token = "...", turn_servers = { srv } })
--   page:close()
--
-- GET /stats            the page (HTML; its graphs are drawn on canvases by the page's
--                       own script: nothing is fetched from elsewhere)
-- WS  /stats/ws         a JSON message after every sample (one a second)
-- GET /stats/pc?id=pc3  the full W3C stats report of one connection (JSON)
-- With a token, each of them wants ?token=TOKEN. See docs/tools.md.
local rtc = require "rtc"
local core = require "rtc.core"
local sampler = require "stats.sampler"
local toolpage = require "toolpage"

local M = {}

local HISTORY_SENT = 120   -- points a new viewer gets per connection (2 minutes)

local function message(first)
  local conns = {}
  for _, c in ipairs(sampler.connections()) do
    local h = c.history
    local points
    if first then
      points = {}
      for i = math.max(1, #h - HISTORY_SENT + 1), #h do points[#points + 1] = h[i] end
    else
      points = { h[#h] }
    end
    conns[#conns + 1] = { id = c.id, summary = c.summary, points = rtc.json.array(points) }
  end
  local turn = {}
  for _, st in ipairs(sampler.turn_stats()) do
    turn[#turn + 1] = { allocations = st.allocations, relayed_bytes = (st.relayed_to_peer_bytes or 0) +
                        (st.relayed_to_client_bytes or 0), errors = st.responses_err }
  end
  local rooms = {}
  for _, r in ipairs(sampler.sfu_rooms()) do
    local producers = {}
    for _, p in ipairs(r.producers) do
      local q = {}
      for k, v in pairs(p) do q[k] = v end
      q.layers = rtc.json.array(p.layers)
      producers[#producers + 1] = q
    end
    rooms[#rooms + 1] = { name = r.name, peers = r.peers, producers = rtc.json.array(producers),
                          consumers = rtc.json.array(r.consumers) }
  end
  return rtc.json.encode { type = first and "snapshot" or "sample", t = rtc.now() / 1000,
                           connections = rtc.json.array(conns), turn = rtc.json.array(turn),
                           sfu = rtc.json.array(rooms) }
end

--- stats.mount(server, path, {token=, turn_servers=}) -> handle (handle:close())
function M.mount(server, path, opts)
  toolpage.check_mount("stats.mount", server, path, "/stats", true)
  opts = opts or {}
  toolpage.check_token("stats.mount", opts.token)
  for _, srv in ipairs(opts.turn_servers or {}) do sampler.add_turn_server(srv) end
  local token = opts.token
  local viewers = setmetatable({}, { __mode = "k" })
  local function authorized(req) return toolpage.authorized(req, token) end

  toolpage.serve(server, path, toolpage.read(debug.getinfo(1, "S").source, "page.html", path), token)
  server:route("GET", path .. "/pc", function(req)
    if not authorized(req) then return toolpage.denied() end
    local id = core.http_query_param(req.target, "id")
    local report = type(id) == "string" and sampler.full_stats(id)
    if not report then return 404, "no such connection\n", { ["Content-Type"] = "text/plain" } end
    return 200, rtc.json.encode(report), { ["Content-Type"] = "application/json" }
  end)
  server:websocket(path .. "/ws", function(ws, req)
    if not authorized(req) then ws:close(4401, "unauthorized"); return end
    ws:send(message(true))
    viewers[ws] = true
    ws:on("close", function() viewers[ws] = nil end)
  end)
  local function push()
    local msg
    for ws in pairs(viewers) do
      msg = msg or message(false)
      ws:send(msg)
    end
  end
  sampler.on_sample(push)
  sampler.start()
  local closed = false
  return { close = function()
    if closed then return end
    closed = true
    sampler.off_sample(push)
    sampler.stop()
    for ws in pairs(viewers) do ws:close(1001, "stats page closed") end
  end }
end

return M
