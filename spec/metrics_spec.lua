-- GET /metrics (modules/metrics.lua) read by a strict parser of the Prometheus text
-- exposition format 0.0.4, during a data channel call between two local connections,
-- and during an SFU call (publisher -> SFU -> subscriber) in one process.
local rtc = require "rtc"
local http = require "http"
local metrics = require "metrics"
local sampler = require "stats.sampler"
local sfu = require "rtc.sfu"
local loop = require "support.loop"
local pair = require "support.pcpair"
local clips = require "support.clips"

-- {====== a strict text-format parser ======
local NAME = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
local LABEL = "^[a-zA-Z_][a-zA-Z0-9_]*$"

local function parse_value(s, where)
  if s == "+Inf" then return math.huge elseif s == "-Inf" then return -math.huge elseif s == "NaN" then return 0 / 0 end
  assert(s:match("^[-+]?%d+%.?%d*[eE]?[-+]?%d*$") or s:match("^[-+]?%.%d+$"), where .. ": bad value '" .. s .. "'")
  return assert(tonumber(s), where .. ": bad value '" .. s .. "'")
end

-- '{a="x",b="y\"z"}' at position i of line -> labels table, position after '}'
local function parse_labels(line, i, where)
  local labels, order = {}, {}
  i = i + 1
  if line:sub(i, i) == "}" then return labels, i + 1 end
  while true do
    local name, j = line:match("^([a-zA-Z_][a-zA-Z0-9_]*)=\"()", i)
    assert(name, where .. ": bad label at column " .. i)
    assert(name:match(LABEL) and not name:match("^__"), where .. ": reserved label name " .. name)
    local v = {}
    while true do
      local c = line:sub(j, j)
      assert(c ~= "", where .. ": unterminated label value")
      if c == "\\" then
        local e = line:sub(j + 1, j + 1)
        assert(e == "\\" or e == "\"" or e == "n", where .. ": bad escape \\" .. e)
        v[#v + 1] = e == "n" and "\n" or e
        j = j + 2
      elseif c == "\"" then j = j + 1; break
      else v[#v + 1] = c; j = j + 1 end
    end
    assert(labels[name] == nil, where .. ": label " .. name .. " twice")
    labels[name] = table.concat(v)
    order[#order + 1] = name
    local c = line:sub(j, j)
    if c == "}" then return labels, j + 1 end
    assert(c == ",", where .. ": expected , or } at column " .. j)
    i = j + 1
    if line:sub(i, i) == "}" then return labels, i + 1 end   -- trailing comma is allowed
  end
end

local function family_of(name, types)
  for _, suffix in ipairs { "_bucket", "_sum", "_count" } do
    local base = name:sub(1, #name - #suffix)
    if name:sub(-#suffix) == suffix and (types[base] == "histogram" or (suffix ~= "_bucket" and types[base] == "summary")) then
      return base
    end
  end
  return name
end

-- text -> { [family] = { type=, help=, samples = { {name, labels, value} } } }
local function parse(text)
  assert(text:sub(-1) == "\n", "the exposition must end with a newline")
  local families, types, seen_series, done, current = {}, {}, {}, {}, nil
  local n = 0
  for line in text:gmatch("([^\n]*)\n") do
    n = n + 1
    local where = "line " .. n
    assert(not line:find("\r"), where .. ": carriage return")
    if line == "" then
      -- empty lines are ignored
    elseif line:sub(1, 1) == "#" then
      local kind, name, rest = line:match("^# (%u+) (%S+) ?(.*)$")
      if kind == "HELP" or kind == "TYPE" then
        assert(name:match(NAME), where .. ": bad metric name " .. name)
        local f = families[name] or { samples = {} }
        families[name] = f
        if kind == "TYPE" then
          assert(not f.type, where .. ": second TYPE for " .. name)
          assert(#f.samples == 0, where .. ": TYPE after samples of " .. name)
          assert(({ counter = 1, gauge = 1, histogram = 1, summary = 1, untyped = 1 })[rest], where .. ": bad type " .. rest)
          f.type = rest
          types[name] = rest
        else
          assert(not f.help, where .. ": second HELP for " .. name)
          f.help = rest
        end
      end
    else
      local name, i = line:match("^([a-zA-Z_:][a-zA-Z0-9_:]*)()")
      assert(name, where .. ": bad sample line '" .. line .. "'")
      local labels = {}
      if line:sub(i, i) == "{" then labels, i = parse_labels(line, i, where) end
      local value, ts = line:sub(i):match("^ (%S+)( ?%S*)$")
      assert(value, where .. ": expected ' value' in '" .. line .. "'")
      if ts ~= "" then assert(ts:match("^ %-?%d+$"), where .. ": bad timestamp") end
      local fam = family_of(name, types)
      assert(not done[fam] or current == fam, where .. ": samples of " .. fam .. " are not together")
      current, done[fam] = fam, true
      local f = families[fam] or { samples = {} }
      families[fam] = f
      local keys = {}
      for k, v in pairs(labels) do keys[#keys + 1] = k .. "=" .. v end
      table.sort(keys)
      local series = name .. "{" .. table.concat(keys, ",") .. "}"
      assert(not seen_series[series], where .. ": series " .. series .. " twice")
      seen_series[series] = true
      local v = parse_value(value, where)
      if f.type == "counter" then assert(v >= 0, where .. ": negative counter") end
      f.samples[#f.samples + 1] = { name = name, labels = labels, value = v }
    end
  end
  -- histograms: cumulative buckets, +Inf equal to _count
  for fname, f in pairs(families) do
    if f.type == "histogram" then
      local prev, inf, count = -1, nil, nil
      local last_le = -math.huge
      for _, s in ipairs(f.samples) do
        if s.name == fname .. "_bucket" then
          local le = assert(s.labels.le, fname .. ": bucket without le")
          local lv = parse_value(le, fname)
          assert(lv > last_le, fname .. ": buckets out of order")
          last_le = lv
          assert(s.value >= prev, fname .. ": buckets not cumulative")
          prev = s.value
          if lv == math.huge then inf = s.value end
        elseif s.name == fname .. "_count" then count = s.value end
      end
      assert(inf ~= nil, fname .. ": no +Inf bucket")
      assert.equal(count, inf)
    end
  end
  return families
end
-- }======

local function value(fams, name, labels)
  local f = fams[name] or fams[name:gsub("_count$", ""):gsub("_bucket$", ""):gsub("_sum$", "")]
  if not f then return nil end
  for _, s in ipairs(f.samples) do
    local ok = s.name == name
    for k, v in pairs(labels or {}) do if s.labels[k] ~= v then ok = false end end
    if ok then return s.value end
  end
  return nil
end

describe("the strict parser", function()
  it("refuses what the format does not allow", function()
    local bad = {
      "x 1",                                   -- no trailing newline
      "1x 1\n",                                -- bad name
      "x{a=\"1\" } 1\n",                       -- junk inside labels
      "x{a=\"\\q\"} 1\n",                      -- bad escape
      "x{a=\"1\",a=\"2\"} 1\n",                -- label twice
      "x one\n",                               -- bad value
      "# TYPE x counter\nx -1\n",              -- negative counter
      "x 1\n# TYPE x gauge\n",                 -- TYPE after samples
      "x 1\ny 1\nx{a=\"b\"} 2\n",              -- family split
      "x 1\nx 2\n",                            -- series twice
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
    }
    for _, t in ipairs(bad) do
      assert.has_error(function() parse(t) end, nil, t)
    end
    local ok = parse("# HELP x a \\\\ help\n# TYPE x gauge\nx{a=\"q\\\"\\n\\\\\",} 1.5e3 123\n")
    assert.equal(1500, ok.x.samples[1].value)
    assert.equal("q\"\n\\", ok.x.samples[1].labels.a)
  end)
end)

describe("GET /metrics", function()
  it("parses strictly and follows a call's counters", function()
    loop.run_task(function()
      local srv = assert(http.server { port = 0 })
      local m = metrics.mount(srv, "/metrics", { token = "t0ken" })
      local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local b = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local track = rtc.media_track("audio")
      a:add_track(track)
      b:on("track", function() end)
      local dc = a:create_data_channel("bulk")
      pair(a, b)
      -- audio frames, so RTCP reports give an RTT and jitter
      local sending, n = true, 0
      rtc.spawn(function()
        while sending do
          n = n + 1
          track:write_frame { data = string.rep("\252", 60), timestamp = n * 960 }
          rtc.sleep(0.02)
        end
      end)
      local url = "http://127.0.0.1:" .. srv.port .. "/metrics"
      local r = assert(http.request(url))
      assert.equal(401, r.status)
      r = assert(http.request(url, { headers = { Authorization = "Bearer wrong" } }))
      assert.equal(401, r.status)
      local function scrape()
        rtc.sleep(1.2)   -- a new sample (one a second)
        local res = assert(http.request(url, { headers = { Authorization = "Bearer t0ken" } }))
        assert.equal(200, res.status)
        assert.matches("^text/plain; version=0%.0%.4", res.headers["content-type"])
        return parse(res.body), res.body
      end
      for _ = 1, 10 do dc:send(string.rep("x", 1000)) end
      local f1, body = scrape()
      assert.equal("gauge", f1.luartc_peer_connections.type, body)
      assert.equal(2, value(f1, "luartc_peer_connections", { state = "connected" }), body)
      assert.equal("counter", f1.luartc_transport_bytes_received_total.type)
      assert.equal("histogram", f1.luartc_rtt_seconds.type)
      local got1 = value(f1, "luartc_transport_bytes_received_total", { conn = b.id })
      assert.is_true(got1 >= 10000, body)
      assert.equal(1, value(f1, "luartc_data_channels_open", { conn = a.id }))
      for _ = 1, 20 do dc:send(string.rep("y", 1000)) end
      local f2 = select(1, scrape())
      local got2 = value(f2, "luartc_transport_bytes_received_total", { conn = b.id })
      assert.is_true(got2 >= got1 + 20000, got1 .. " -> " .. got2)
      assert.is_true(value(f2, "luartc_bitrate_in_bits_per_second", { conn = b.id }) > 0)
      -- a's RTT from b's receiver reports, b's jitter, and the histogram counting them
      local f2b = select(1, scrape())
      assert.is_true(value(f2b, "luartc_round_trip_time_seconds", { conn = a.id }) >= 0)
      assert.is_true(value(f2b, "luartc_rtp_jitter_seconds", { conn = b.id }) >= 0)
      assert.is_true(value(f2b, "luartc_rtt_seconds_count") >= 1)
      assert.equal(value(f2b, "luartc_rtt_seconds_count"), value(f2b, "luartc_rtt_seconds_bucket", { le = "+Inf" }))
      sending = false
      a:close()
      local f3 = select(1, scrape())
      assert.equal(1, value(f3, "luartc_peer_connections", { state = "connected" }))
      assert.equal(1, value(f3, "luartc_peer_connections_closed_total"))
      assert.is_nil(value(f3, "luartc_transport_bytes_sent_total", { conn = a.id }))
      b:close()
      m:close()
      srv:close()
    end, 30000)
  end)

  it("counts SFU rooms, producers, consumers and their layers, what they forwarded, and each estimate", function()
    local ivf = clips.vp8()
    loop.run_task(function()
      local LOCAL = { bind_addresses = { "127.0.0.1" } }
      local srv = assert(http.server { port = 0 })
      local m = metrics.mount(srv, "/metrics")
      local ROOM = "metrics \"room\""            -- a label value with quotes
      local room = sfu.room { name = ROOM }
      -- publisher -> SFU connection (producers) ... SFU connection -> subscriber (consumers)
      local pub, s0 = assert(rtc.peer_connection(LOCAL)), assert(rtc.peer_connection(LOCAL))
      local cam, mic = rtc.media_track("video", { codec = "VP8" }), rtc.media_track("audio")
      assert(pub:add_transceiver(cam, { direction = "sendonly" }))
      assert(pub:add_transceiver(mic, { direction = "sendonly" }))
      local tracks = {}
      s0:on("track", function(t) tracks[#tracks + 1] = t end)
      pair(pub, s0)
      local producers = {}
      for _, t in ipairs(tracks) do producers[t.kind] = assert(room:publish(t)) end
      local v = assert(rtc.media.file_source(ivf, { loop = true }))
      v:on("frame", function(f) cam:write_frame(f) end)
      local a = assert(rtc.media.tone_source { frequency = 440, amplitude = 0.3, duration = 30 })
      a:on("frame", function(f) mic:write_frame(f) end)
      v:start(); a:start()
      local s1, sub = assert(rtc.peer_connection(LOCAL)), assert(rtc.peer_connection(LOCAL))
      local consumers = {}
      for kind, prod in pairs(producers) do consumers[kind] = assert(room:subscribe(s1, prod)) end
      sub:on("track", function() end)
      pair(s1, sub)
      loop.wait_for(function()
        return consumers.video:current_layers().spatial ~= nil and s1:bandwidth() ~= nil
               and (consumers.audio:stats().packets_sent or 0) > 0
      end, "forwarding and an estimate", 10000)
      rtc.sleep(1)

      -- One sample, then the exposition and the objects' own numbers with no yield in
      -- between: the counts cannot move, so they must match exactly.
      local function check()
        sampler.sample()
        local text = metrics.render()
        local f = parse(text)
        local function want(name, labels, expected)
          assert.equal(expected, value(f, name, labels), name .. " " .. rtc.json.encode(labels) .. "\n" .. text)
        end
        want("luartc_sfu_rooms", nil, 1)
        want("luartc_sfu_room_peers", { room = ROOM }, 2)
        for _, kind in ipairs { "audio", "video" } do
          local l = { room = ROOM, kind = kind }
          local ps = producers[kind]:stats()
          want("luartc_sfu_producers", l, producers[kind].closed and 0 or 1)
          want("luartc_sfu_received_packets_total", l, ps.packets_received)
          want("luartc_sfu_received_bytes_total", l, ps.bytes_received)
          want("luartc_sfu_nacks_sent_total", l, ps.nack_count)
          want("luartc_sfu_plis_sent_total", l, ps.pli_count)
          if not consumers[kind].closed then
            local cs = consumers[kind]:stats()
            want("luartc_sfu_consumers", l, 1)
            want("luartc_sfu_forwarded_packets_total", l, cs.packets_sent)
            want("luartc_sfu_forwarded_bytes_total", l, cs.bytes_sent)
            want("luartc_sfu_retransmitted_packets_total", l, cs.retransmitted_packets_sent)
            want("luartc_sfu_nacks_received_total", l, cs.nack_count)
            want("luartc_sfu_plis_received_total", l, cs.pli_count)
          else
            want("luartc_sfu_consumers", l, 0)
          end
        end
        assert.equal("counter", f.luartc_sfu_forwarded_packets_total.type)
        assert.equal("gauge", f.luartc_sfu_consumer_layers.type)
        local ly = consumers.video:current_layers()
        want("luartc_sfu_consumer_layers", { room = ROOM, spatial = tostring(ly.spatial), temporal = tostring(ly.temporal) }, 1)
        assert.equal(1, #f.luartc_sfu_consumer_layers.samples)   -- audio consumers have no layers
        for _, pc in ipairs { pub, s1 } do
          want("luartc_bandwidth_estimate_bits_per_second", { conn = pc.id }, pc:bandwidth().bps)
        end
        return f
      end
      local f1 = check()
      assert.is_true(value(f1, "luartc_sfu_forwarded_packets_total", { room = ROOM, kind = "video" }) > 0)
      assert.is_true(value(f1, "luartc_sfu_plis_sent_total", { room = ROOM, kind = "video" }) >= 0)
      -- the estimate is also served over HTTP, parsed strictly
      local res = assert(http.request("http://127.0.0.1:" .. srv.port .. "/metrics"))
      assert.is_true(value(parse(res.body), "luartc_bandwidth_estimate_bits_per_second", { conn = s1.id }) > 0)

      -- a consumer that closes: its counts stay in the room's counters, which never go down
      sampler.sample()
      local before = consumers.audio:stats().packets_sent
      consumers.audio:close()
      rtc.sleep(0.3)
      sampler.sample()
      local f2 = parse(metrics.render())
      assert.equal(0, value(f2, "luartc_sfu_consumers", { room = ROOM, kind = "audio" }))
      assert.equal(before, value(f2, "luartc_sfu_forwarded_packets_total", { room = ROOM, kind = "audio" }))
      check()
      -- a closed room leaves /metrics
      room:close()
      sampler.sample()
      local f3 = parse(metrics.render())
      assert.is_nil(f3.luartc_sfu_rooms)
      assert.is_nil(value(f3, "luartc_sfu_forwarded_packets_total", { room = ROOM, kind = "video" }))
      v:stop(); a:stop()
      for _, pc in ipairs { pub, s0, s1, sub } do pc:close() end
      m:close()
      srv:close()
    end, 30000)
    os.remove(ivf)
  end)

  it("refuses bad arguments", function()
    assert.has_error(function() metrics.mount({}, "/metrics") end, "bad argument #1 to 'metrics.mount' (http.server expected)")
    local fake = { route = function() end }
    assert.has_error(function() metrics.mount(fake, "metrics") end, "bad argument #2 to 'metrics.mount' (path expected)")
    assert.has_error(function() metrics.mount(fake, "/m", { token = "" }) end,
                     "bad argument #3 to 'metrics.mount' (token must be a non-empty string)")
  end)
end)
