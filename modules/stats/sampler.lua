-- stats.sampler: one sample a second of every peer connection in the process (and of
-- any TURN servers it was given), with a bounded history for graphs. The stats page
-- (modules/stats/init.lua) and /metrics (modules/metrics.lua) read from it, so both
-- see the same numbers and get_stats runs once a second, not once a request.
local rtc = require "rtc"
local sfu_sample = require "stats.sfu"

local M = {}

M.HISTORY = 300                -- samples kept per connection (5 minutes at 1 Hz)
M.RTT_BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 }   -- seconds

local state = {
  users = 0,                   -- mounted pages/endpoints; the timer runs while > 0
  timer = nil,
  conns = {},                  -- id -> { summary, history = {samples}, prev }
  turn_servers = setmetatable({}, { __mode = "k" }),
  rtt = { counts = {}, sum = 0, count = 0 },   -- every RTT observed, for the histogram
  closed_total = 0,
  listeners = {},
  sfu = {},                    -- the rooms of rtc.sfu at the last sample (stats/sfu.lua)
}
for i = 1, #M.RTT_BUCKETS do state.rtt.counts[i] = 0 end

-- The selected pair, RTT, loss, jitter and bandwidth estimate of one peer connection,
-- from its W3C stats and pc:bandwidth().
local function summarize(pc)
  local report = pc:get_stats()
  local s = { id = pc.id, connection_state = pc.connection_state, ice_state = pc.ice_connection_state,
              bytes_sent = 0, bytes_received = 0, packets_sent = 0, packets_received = 0,
              packets_lost = 0, nack_count = 0, data_channels = 0 }
  local bw = pc:bandwidth()
  s.estimate_bps = bw and bw.bps or nil
  local l, r, pair
  for _, st in pairs(report) do
    if st.type == "transport" then
      s.bytes_sent, s.bytes_received = st.bytesSent or 0, st.bytesReceived or 0
      s.packets_sent, s.packets_received = st.packetsSent or 0, st.packetsReceived or 0
      s.dtls_state = st.dtlsState
      pair = st.selectedCandidatePairId and report[st.selectedCandidatePairId]
    elseif st.type == "inbound-rtp" then
      s.packets_lost = s.packets_lost + math.max(0, st.packetsLost or 0)
      s.nack_count = s.nack_count + (st.nackCount or 0)
      if st.jitter then s.jitter = math.max(s.jitter or 0, st.jitter) end
    elseif st.type == "remote-inbound-rtp" then
      if st.roundTripTime then s.rtt = math.max(s.rtt or 0, st.roundTripTime) end
      if st.fractionLost then s.fraction_lost = math.max(s.fraction_lost or 0, st.fractionLost) end
    elseif st.type == "data-channel" and st.state == "open" then
      s.data_channels = s.data_channels + 1
    end
  end
  if pair then
    l, r = report[pair.localCandidateId], report[pair.remoteCandidateId]
    if l and r then
      s.pair = string.format("%s %s:%s -> %s %s:%s", l.candidateType, l.address, l.port,
                             r.candidateType, r.address, r.port)
    end
  end
  return s, report
end

local function observe_rtt(v)
  local h = state.rtt
  for i, b in ipairs(M.RTT_BUCKETS) do
    if v <= b then h.counts[i] = h.counts[i] + 1 end
  end
  h.sum, h.count = h.sum + v, h.count + 1
end

--- sampler.sample(): takes one sample now (the timer calls it every second).
function M.sample()
  local now = rtc.now()
  local seen = {}
  for _, pc in ipairs(rtc.peer_connections()) do
    local ok, s = pcall(summarize, pc)
    if ok then
      seen[s.id] = true
      local c = state.conns[s.id]
      if not c then c = { history = {} }; state.conns[s.id] = c end
      local p = c.prev
      local point = { t = now / 1000, rtt_ms = s.rtt and s.rtt * 1000, jitter_ms = s.jitter and s.jitter * 1000,
                      estimate_kbps = s.estimate_bps and s.estimate_bps / 1000 }
      if p and now > p.t then
        local dt = (now - p.t) / 1000
        point.kbps_out = math.max(0, (s.bytes_sent - p.bytes_sent) * 8 / 1000 / dt)
        point.kbps_in = math.max(0, (s.bytes_received - p.bytes_received) * 8 / 1000 / dt)
        local got = s.packets_received - p.packets_received
        local lost = s.packets_lost - p.packets_lost
        point.loss_pct = (got + lost) > 0 and math.max(0, lost) * 100 / (got + lost) or 0
      end
      s.kbps_in, s.kbps_out, s.loss_pct = point.kbps_in, point.kbps_out, point.loss_pct
      c.summary = s
      c.prev = { t = now, bytes_sent = s.bytes_sent, bytes_received = s.bytes_received,
                 packets_received = s.packets_received, packets_lost = s.packets_lost }
      local h = c.history
      h[#h + 1] = point
      if #h > M.HISTORY then table.remove(h, 1) end
      if s.rtt then observe_rtt(s.rtt) end
    end
  end
  for id in pairs(state.conns) do
    if not seen[id] then state.conns[id] = nil; state.closed_total = state.closed_total + 1 end
  end
  state.sfu = sfu_sample.sample()
  state.last = now
  for fn in pairs(state.listeners) do
    local ok, err = pcall(fn)
    if not ok then rtc.log.warn("stats", "listener failed: %s", tostring(err)) end
  end
end

--- sampler.start() / sampler.stop(): reference-counted; the first start samples at
--- once and then every second.
function M.start()
  state.users = state.users + 1
  if state.users == 1 then
    M.sample()
    state.timer = rtc.set_interval(1000, M.sample)
  end
end

function M.stop()
  if state.users == 0 then return end
  state.users = state.users - 1
  if state.users == 0 and state.timer then state.timer:stop(); state.timer = nil end
end

--- sampler.on_sample(fn) / sampler.off_sample(fn): fn() after every sample.
function M.on_sample(fn) state.listeners[fn] = true end
function M.off_sample(fn) state.listeners[fn] = nil end

--- sampler.add_turn_server(srv): its get_stats() shows in /metrics and the page.
function M.add_turn_server(srv) state.turn_servers[srv] = true end

--- sampler.connections() -> list of {summary, history}, by id order.
function M.connections()
  local list = {}
  for id, c in pairs(state.conns) do
    if c.summary then list[#list + 1] = { id = id, summary = c.summary, history = c.history } end
  end
  table.sort(list, function(a, b) return tonumber(a.id:sub(3)) < tonumber(b.id:sub(3)) end)
  return list
end

function M.turn_stats()
  local list = {}
  for srv in pairs(state.turn_servers) do
    local ok, st = pcall(srv.get_stats, srv)
    if ok and st then list[#list + 1] = st end
  end
  return list
end

--- sampler.sfu_rooms() -> the SFU rooms at the last sample (modules/stats/sfu.lua).
function M.sfu_rooms() return state.sfu end

function M.rtt_histogram() return state.rtt end
function M.closed_total() return state.closed_total end

--- sampler.full_stats(id) -> the W3C stats report of one live connection, or nil.
function M.full_stats(id)
  for _, pc in ipairs(rtc.peer_connections()) do
    if pc.id == id then return pc:get_stats() end
  end
  return nil
end

return M
