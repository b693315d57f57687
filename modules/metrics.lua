-- metrics: GET /metrics in the Prometheus text exposition format (version 0.0.4) for
-- any http.server of the process:
--
--   local metrics = require "metrics"
--   local m = metrics.mount(server, "/metrics", { token = "...", turn_servers = { srv } })
--   m:close()   -- removes nothing from the server; stops the sampler when unused
--
-- Numbers come from stats.sampler (one sample a second); see docs/tools.md.
local sampler = require "stats.sampler"
local core = require "rtc.core"
local sfu_stats = require "stats.sfu"
local sfu_counters, sfu_kinds = sfu_stats.COUNTERS, sfu_stats.KINDS

local M = {}

-- Label values escape backslash, double quote and newline (the format's rule).
local function label(v)
  return (tostring(v):gsub("[\\\"\n]", { ["\\"] = "\\\\", ["\""] = "\\\"", ["\n"] = "\\n" }))
end

-- Integers print as integers; other numbers with enough digits to round-trip.
local function num(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" elseif v == -math.huge then return "-Inf" end
  if v == math.floor(v) and math.abs(v) < 2^53 then return string.format("%d", v) end
  local short = string.format("%.15g", v)
  if tonumber(short) == v then return short end
  return string.format("%.17g", v)
end

local function family(out, name, kind, help, samples)
  out[#out + 1] = "# HELP " .. name .. " " .. help
  out[#out + 1] = "# TYPE " .. name .. " " .. kind
  for _, s in ipairs(samples) do
    local labels = ""
    if s.labels then
      local parts = {}
      for _, kv in ipairs(s.labels) do parts[#parts + 1] = kv[1] .. "=\"" .. label(kv[2]) .. "\"" end
      labels = "{" .. table.concat(parts, ",") .. "}"
    end
    out[#out + 1] = (s.name or name) .. labels .. " " .. num(s.value)
  end
end

-- The SFU: labels are room (the open rooms), kind (audio, video) and for layers
-- spatial/temporal (0..2 / 0..3 or "none"), never a producer or consumer, so the
-- series are bounded by the open rooms: see docs/tools.md.
local SFU_HELP = {
  received_packets = "RTP packets producers received from publishers.",
  received_bytes = "RTP bytes producers received from publishers.",
  nacks_sent = "NACKs producers sent to publishers (losses the cache could not repair).",
  plis_sent = "PLIs producers sent to publishers (aggregated keyframe requests).",
  forwarded_packets = "RTP packets consumers forwarded to subscribers.",
  forwarded_bytes = "RTP bytes consumers forwarded to subscribers.",
  retransmitted_packets = "Packets consumers resent from the cache on a subscriber's NACK.",
  nacks_received = "Sequence numbers subscribers NACKed.",
  plis_received = "PLIs subscribers sent.",
}

local function render_sfu(out, rooms)
  if #rooms == 0 then return end
  family(out, "luartc_sfu_rooms", "gauge", "Open SFU rooms.", { { value = #rooms } })
  local peers, producers, consumers, layers = {}, {}, {}, {}
  for _, r in ipairs(rooms) do
    peers[#peers + 1] = { labels = { { "room", r.name } }, value = r.peers }
    local np, nc, by_layer = { audio = 0, video = 0 }, { audio = 0, video = 0 }, {}
    for _, p in ipairs(r.producers) do np[p.kind] = (np[p.kind] or 0) + 1 end
    for _, c in ipairs(r.consumers) do
      nc[c.kind] = (nc[c.kind] or 0) + 1
      if c.kind == "video" then
        local key = (c.spatial or "none") .. "/" .. (c.temporal or "none")
        by_layer[key] = (by_layer[key] or 0) + 1
      end
    end
    for _, k in ipairs(sfu_kinds) do
      producers[#producers + 1] = { labels = { { "room", r.name }, { "kind", k } }, value = np[k] }
      consumers[#consumers + 1] = { labels = { { "room", r.name }, { "kind", k } }, value = nc[k] }
    end
    local keys = {}
    for key in pairs(by_layer) do keys[#keys + 1] = key end
    table.sort(keys)
    for _, key in ipairs(keys) do
      local sp, tp = key:match("^(.-)/(.*)$")
      layers[#layers + 1] = { labels = { { "room", r.name }, { "spatial", sp }, { "temporal", tp } }, value = by_layer[key] }
    end
  end
  family(out, "luartc_sfu_room_peers", "gauge", "Peer connections publishing or subscribing in a room.", peers)
  family(out, "luartc_sfu_producers", "gauge", "Open producers (published tracks).", producers)
  family(out, "luartc_sfu_consumers", "gauge", "Open consumers (subscriptions).", consumers)
  family(out, "luartc_sfu_consumer_layers", "gauge",
         "Video consumers by the layer they forward now (none: nothing forwarded yet).", layers)
  for _, c in ipairs(sfu_counters) do
    local list = {}
    for _, r in ipairs(rooms) do
      for _, k in ipairs(sfu_kinds) do
        list[#list + 1] = { labels = { { "room", r.name }, { "kind", k } }, value = r.totals[k][c[1]] }
      end
    end
    family(out, "luartc_sfu_" .. c[1] .. "_total", "counter", SFU_HELP[c[1]], list)
  end
end

--- metrics.render() -> the exposition text of the process's connections now.
function M.render()
  local out = {}
  local conns = sampler.connections()
  local by_state = {}
  for _, c in ipairs(conns) do
    local st = c.summary.connection_state
    by_state[st] = (by_state[st] or 0) + 1
  end
  local states = {}
  for _, st in ipairs { "new", "connecting", "connected", "disconnected", "failed", "closed" } do
    states[#states + 1] = { labels = { { "state", st } }, value = by_state[st] or 0 }
  end
  family(out, "luartc_peer_connections", "gauge", "Peer connections of the process by connection state.", states)
  family(out, "luartc_peer_connections_closed_total", "counter", "Peer connections that went away.",
         { { value = sampler.closed_total() } })
  local function per_conn(field, scale)
    local list = {}
    for _, c in ipairs(conns) do
      local v = c.summary[field]
      if v then list[#list + 1] = { labels = { { "conn", c.id } }, value = scale and v * scale or v } end
    end
    return list
  end
  family(out, "luartc_transport_bytes_sent_total", "counter", "Bytes sent on the selected pair.", per_conn("bytes_sent"))
  family(out, "luartc_transport_bytes_received_total", "counter", "Bytes received on the selected pair.",
         per_conn("bytes_received"))
  family(out, "luartc_transport_packets_sent_total", "counter", "Datagrams sent.", per_conn("packets_sent"))
  family(out, "luartc_transport_packets_received_total", "counter", "Datagrams received.", per_conn("packets_received"))
  family(out, "luartc_rtp_packets_lost_total", "counter", "RTP packets lost on incoming streams (RFC 3550 cumulative).",
         per_conn("packets_lost"))
  family(out, "luartc_rtp_nack_total", "counter", "NACKs sent for incoming streams.", per_conn("nack_count"))
  family(out, "luartc_rtp_jitter_seconds", "gauge", "Largest interarrival jitter of the incoming streams.",
         per_conn("jitter"))
  family(out, "luartc_round_trip_time_seconds", "gauge", "Latest RTT from RTCP (largest of the outgoing streams).",
         per_conn("rtt"))
  family(out, "luartc_bitrate_in_bits_per_second", "gauge", "Received bitrate over the last second.",
         per_conn("kbps_in", 1000))
  family(out, "luartc_bitrate_out_bits_per_second", "gauge", "Sent bitrate over the last second.",
         per_conn("kbps_out", 1000))
  family(out, "luartc_data_channels_open", "gauge", "Open data channels.", per_conn("data_channels"))
  family(out, "luartc_bandwidth_estimate_bits_per_second", "gauge",
         "Send-side bandwidth estimate of the connection (pc:bandwidth()).", per_conn("estimate_bps"))
  local h = sampler.rtt_histogram()
  local hs = {}
  for i, b in ipairs(sampler.RTT_BUCKETS) do
    hs[#hs + 1] = { name = "luartc_rtt_seconds_bucket", labels = { { "le", num(b) } }, value = h.counts[i] }
  end
  hs[#hs + 1] = { name = "luartc_rtt_seconds_bucket", labels = { { "le", "+Inf" } }, value = h.count }
  hs[#hs + 1] = { name = "luartc_rtt_seconds_sum", value = h.sum }
  hs[#hs + 1] = { name = "luartc_rtt_seconds_count", value = h.count }
  family(out, "luartc_rtt_seconds", "histogram", "RTT observations, one a connection a second.", hs)
  render_sfu(out, sampler.sfu_rooms())
  local turn = sampler.turn_stats()
  if #turn > 0 then
    local alloc, relayed_b, relayed_p, refused = {}, {}, {}, {}
    for i, st in ipairs(turn) do
      local l = { { "server", tostring(i) } }
      alloc[#alloc + 1] = { labels = l, value = st.allocations or 0 }
      relayed_b[#relayed_b + 1] = { labels = l, value = (st.relayed_to_peer_bytes or 0) + (st.relayed_to_client_bytes or 0) }
      relayed_p[#relayed_p + 1] = { labels = l, value = (st.relayed_to_peer or 0) + (st.relayed_to_client or 0) }
      refused[#refused + 1] = { labels = l, value = st.responses_err or 0 }
    end
    family(out, "luartc_turn_allocations", "gauge", "Current TURN allocations.", alloc)
    family(out, "luartc_turn_relayed_bytes_total", "counter", "Bytes relayed by the TURN server.", relayed_b)
    family(out, "luartc_turn_relayed_packets_total", "counter", "Packets relayed by the TURN server.", relayed_p)
    family(out, "luartc_turn_error_responses_total", "counter", "TURN requests answered with an error.", refused)
  end
  return table.concat(out, "\n") .. "\n"
end

-- A token given as ?token= or "Authorization: Bearer ..." (Prometheus sends the latter).
function M.authorized(req, token)
  if not token then return true end
  local given = core.http_query_param(req.target, "token")
  if not given and req.headers then
    local a = req.headers["authorization"]
    given = a and a:match("^Bearer%s+(.+)$")
  end
  return type(given) == "string" and #given == #token and core.ct_equal(given, token)
end

--- metrics.mount(server, path, {token=, turn_servers={srv,...}}) -> handle (handle:close())
function M.mount(server, path, opts)
  if type(server) ~= "table" or type(server.route) ~= "function" then
    error("bad argument #1 to 'metrics.mount' (http.server expected)", 2)
  end
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then error("bad argument #2 to 'metrics.mount' (path expected)", 2) end
  opts = opts or {}
  if opts.token ~= nil and (type(opts.token) ~= "string" or opts.token == "") then
    error("bad argument #3 to 'metrics.mount' (token must be a non-empty string)", 2)
  end
  for _, srv in ipairs(opts.turn_servers or {}) do sampler.add_turn_server(srv) end
  sampler.start()
  server:route("GET", path, function(req)
    if not M.authorized(req, opts.token) then return 401, "unauthorized\n", { ["Content-Type"] = "text/plain" } end
    return 200, M.render(), { ["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8" }
  end)
  local closed = false
  return { close = function() if not closed then closed = true; sampler.stop() end end }
end

return M
