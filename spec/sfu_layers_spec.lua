-- rtc.sfu simulcast with luartc bots: a publisher sends three VP8 layers (three
-- encodes ffmpeg made: 64x48, 128x96, 256x192) to the SFU, which publishes them as the
-- layers of one producer; a subscriber's preferred layer moves down and up again.
-- Checked: every frame the subscriber gets is byte for byte one the publisher sent;
-- each change of layer starts at a keyframe of the new layer and is announced by
-- "layerchange" with the reason; the subscriber's stream stays one stream: no packet
-- lost (its sequence numbers have no gap), RTP timestamps always move forward, one SSRC.
-- Real peer connections on 127.0.0.1 in one process.
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local clips = require "support.clips"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function path(name) return dir .. "/" .. name end
local SIZES = { { 64, 48, "40k" }, { 128, 96, "80k" }, { 256, 192, "150k" } }

setup(function()
  for i, s in ipairs(SIZES) do
    clips.vp8 { path = path("l" .. i .. ".ivf"), size = s[1] .. "x" .. s[2], gop = 10, bitrate = s[3] }
  end
end)
teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

-- The width a VP8 keyframe says it has (RFC 6386 9.1), nil for other frames.
local function keyframe_width(data)
  if #data < 10 or data:byte(1) & 1 ~= 0 or data:sub(4, 6) ~= "\x9d\x01\x2a" then return nil end
  return (data:byte(7) | data:byte(8) << 8) & 0x3fff
end

describe("rtc.sfu simulcast layers", function()
  it("a subscriber moves between three layers, switching at keyframes, its stream continuous", function()
    run_task(function()
      local room = sfu.room { name = "layers" }
      -- The publisher: one transceiver per layer, each looping its encode.
      local pc = assert(rtc.peer_connection(LOCAL))
      local sent, cams = {}, {}
      for i = 1, 3 do
        cams[i] = rtc.media_track("video", { codec = "VP8" })
        assert(pc:add_transceiver(cams[i], { direction = "sendonly" }))
      end
      local s0 = assert(rtc.peer_connection(LOCAL))
      local tracks = {}
      s0:on("track", function(track) tracks[#tracks + 1] = track end)
      pcpair(pc, s0)
      assert.equal(3, #tracks)
      table.sort(tracks, function(x, y) return tonumber(x._tr.mid) < tonumber(y._tr.mid) end)
      local producer = assert(room:publish(tracks))
      assert.equal(3, producer.layers)
      local started = {}
      producer:on("layerstart", function(spatial) started[#started + 1] = spatial end)
      local sources = {}
      for i = 1, 3 do
        local src = assert(rtc.media.file_source(path("l" .. i .. ".ivf"), { loop = true }))
        src:on("frame", function(f) sent[f.data] = i - 1; cams[i]:write_frame(f) end)
        src:start()
        sources[i] = src
      end

      -- The subscriber bot and the SFU's connection to it.
      local s = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local c = assert(room:subscribe(s, producer))
      local got = { n = 0, bad = 0, layers = {}, starts_bad = 0, ts_back = 0 }
      local changes = {}
      c:on("layerchange", function(spatial, temporal, why)
        changes[#changes + 1] = { spatial = spatial, temporal = temporal, why = why }
      end)
      b:on("track", function(track)
        track:on("frame", function(f)
          local layer = sent[f.data]
          if layer == nil then got.bad = got.bad + 1; return end
          -- A frame of another layer than the last must be that layer's keyframe.
          if layer ~= got.layer then
            if not f.keyframe then got.starts_bad = got.starts_bad + 1 end
            got.layers[#got.layers + 1] = { layer = layer, width = keyframe_width(f.data) }
          end
          if got.ts and ((f.timestamp - got.ts) & 0xffffffff) >= 0x80000000 then got.ts_back = got.ts_back + 1 end
          got.ts, got.layer, got.n = f.timestamp, layer, got.n + 1
          got.per = got.per or {}
          got.per[layer] = (got.per[layer] or 0) + 1
        end)
      end)
      pcpair(s, b)

      local function at_layer(l, what)
        wait_for(function() return got.layer == l and (c:current_layers().spatial == l) end, what, 15000)
        local n = got.n
        wait_for(function() return got.n >= n + 10 end, what .. ": frames go on", 10000)
        assert.equal(l, got.layer)
      end
      at_layer(2, "the top layer at first")
      assert.same({ 0, 1, 2 }, (function() table.sort(started); return started end)())

      c:set_preferred_layers { spatial = 0 }
      at_layer(0, "down to layer 0")
      assert.equal(0, changes[#changes].spatial)
      assert.equal("preferred", changes[#changes].why)
      c:set_preferred_layers { spatial = 1 }
      at_layer(1, "up to layer 1")
      c:set_preferred_layers {}
      at_layer(2, "back to the top layer")
      assert.equal("preferred", changes[#changes].why)

      assert.equal(0, got.bad)
      assert.equal(0, got.starts_bad)
      assert.equal(0, got.ts_back)
      -- The order the subscriber saw layers in: 2 (after perhaps 0 or 1 at the start), 0, 1, 2.
      local seq = {}
      for _, l in ipairs(got.layers) do seq[#seq + 1] = l.layer end
      assert.same({ 2, 0, 1, 2 }, { table.unpack(seq, #seq - 3) })
      for _, l in ipairs(got.layers) do assert.equal(SIZES[l.layer + 1][1], l.width) end
      -- One stream: one inbound SSRC, nothing lost in its sequence numbers.
      local inbound = {}
      for _, st in pairs(b:get_stats()) do if st.type == "inbound-rtp" then inbound[#inbound + 1] = st end end
      assert.equal(1, #inbound)
      assert.equal(0, inbound[1].packetsLost)
      local cs = c:stats()
      assert.is_true(cs.layer_switches >= 3)
      local ps = producer:stats()
      assert.equal(3, #ps.layers)
      for i, l in ipairs(ps.layers) do
        assert.is_true(l.active)
        assert.is_true(l.bitrate > 0)
        assert.equal(SIZES[i][1], l.frame_width)
      end
      assert.is_true(ps.layers[1].bitrate < ps.layers[3].bitrate)
      -- The subscriber's estimate picks the layer: its connection's bound (sender
      -- max_bitrate) below layer 1's bitrate moves it down at once; lifted, it goes back
      -- up once the estimate has held (the hysteresis).
      wait_for(function() return s:bandwidth() ~= nil end, "an estimate for the subscriber's leg", 10000)
      local sender = c.transceiver.sender
      local function cap(bps)
        local prm = sender:get_parameters()
        prm.encodings[1].max_bitrate = bps
        assert(sender:set_parameters(prm))
      end
      local low = math.floor(producer:stats().layers[2].bitrate * 0.7)
      cap(low)
      wait_for(function() return got.layer == 0 end, "down to layer 0 for the estimate", 15000)
      assert.equal("bandwidth", changes[#changes].why)
      assert.equal(0, changes[#changes].spatial)
      assert.is_true(s:bandwidth().bps <= low)
      cap(0)
      wait_for(function() return got.layer == 2 end, "back up once the estimate allows", 40000)
      assert.equal("bandwidth", changes[#changes].why)
      assert.equal(0, got.bad)
      assert.equal(0, got.starts_bad)
      assert.equal(0, got.ts_back)

      -- Bad arguments raise.
      assert.has_error(function() c:set_preferred_layers { spatial = 3 } end)
      assert.has_error(function() c:set_preferred_layers { temporal = -1 } end)
      assert.has_error(function() c:set_preferred_layers(1) end)
      assert.has_error(function() room:publish({ tracks[1], "x" }) end)

      for _, src in ipairs(sources) do src:stop() end
      for _, p in ipairs { pc, s0, s, b } do p:close() end
      room:close()
    end, 60000)
  end)
end)
