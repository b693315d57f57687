-- rtc.sfu simulcast from a luartc bot that sends real simulcast: one transceiver with
-- three send encodings (a=rid / a=simulcast:send q;h;f), each fed a VP8 encode of its
-- own size (64x48, 128x96, 256x192) with track:write_frame{rid=}. The SFU's connection
-- receives three layers by RID and publishes them as one producer; a subscriber's
-- set_preferred_layers moves between them and the frames of the chosen clip arrive,
-- byte for byte, each change at a keyframe of the new layer.
-- (spec/sfu_layers_spec.lua publishes three separate transceivers as the layers.)
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

describe("rtc.sfu with luartc simulcast", function()
  it("a bot publishes three encodings by RID; the subscriber's preferred layer picks the clip", function()
    run_task(function()
      local room = sfu.room { name = "simsend" }
      local pc = assert(rtc.peer_connection(LOCAL))
      local RIDS = { "q", "h", "f" }
      local cam = rtc.media_track("video", { codec = "VP8" })
      local tr = assert(pc:add_transceiver(cam, { direction = "sendonly", send_encodings = {
        { rid = "q", scale_resolution_down_by = 4 }, { rid = "h", scale_resolution_down_by = 2 }, { rid = "f" } } }))
      local s0 = assert(rtc.peer_connection(LOCAL))
      local tracks = {}
      s0:on("track", function(track) tracks[#tracks + 1] = track end)
      pcpair(pc, s0)
      assert.truthy(pc.local_description.sdp:find("a=simulcast:send q;h;f", 1, true))
      assert.equal(1, #tracks)                       -- one track, three layers
      local producer = assert(room:publish(tracks[1], { rids = RIDS }))
      assert.equal(3, producer.layers)
      local requests = {}
      -- the SFU's PLIs name a layer's SSRC: each reaches the encoding it is for
      cam:on("keyframerequest", function(r)
        local k = r and r.rid or "none"
        requests[k] = (requests[k] or 0) + 1
      end)
      local sent, sources = {}, {}
      for i = 1, 3 do
        local src = assert(rtc.media.file_source(path("l" .. i .. ".ivf"), { loop = true }))
        src:on("frame", function(f)
          sent[f.data] = i - 1
          cam:write_frame { data = f.data, timestamp = f.timestamp, keyframe = f.keyframe, rid = RIDS[i] }
        end)
        src:start()
        sources[i] = src
      end

      local s = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local c = assert(room:subscribe(s, producer))
      local got = { n = 0, bad = 0, layers = {}, starts_bad = 0 }
      b:on("track", function(track)
        track:on("frame", function(f)
          local layer = sent[f.data]
          if layer == nil then got.bad = got.bad + 1; return end
          if layer ~= got.layer then
            if not f.keyframe then got.starts_bad = got.starts_bad + 1 end
            got.layers[#got.layers + 1] = { layer = layer, width = keyframe_width(f.data) }
          end
          got.layer, got.n = layer, got.n + 1
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
      c:set_preferred_layers { spatial = 0 }
      at_layer(0, "down to layer 0")
      c:set_preferred_layers { spatial = 1 }
      at_layer(1, "up to layer 1")
      c:set_preferred_layers {}
      at_layer(2, "back to the top layer")
      assert.equal(0, got.bad)
      assert.equal(0, got.starts_bad)
      local seq = {}
      for _, l in ipairs(got.layers) do seq[#seq + 1] = l.layer end
      assert.same({ 2, 0, 1, 2 }, { table.unpack(seq, #seq - 3) })
      for _, l in ipairs(got.layers) do assert.equal(SIZES[l.layer + 1][1], l.width) end
      local ps = producer:stats()
      assert.equal(3, #ps.layers)
      for i, l in ipairs(ps.layers) do assert.equal(SIZES[i][1], l.frame_width) end
      for _, r in ipairs(RIDS) do assert.is_true((requests[r] or 0) >= 1, "keyframe requests for " .. r) end
      assert.is_nil(requests.none)
      local encs = tr.sender:get_parameters().encodings
      assert.same({ "q", "h", "f" }, { encs[1].rid, encs[2].rid, encs[3].rid })

      for _, src in ipairs(sources) do src:stop() end
      for _, p in ipairs { pc, s0, s, b } do p:close() end
      room:close()
    end, 60000)
  end)
end)
