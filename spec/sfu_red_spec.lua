-- RED (RFC 2198) through rtc.sfu with luartc bots: a publisher sends its Opus tone as
-- RED (red/48000/2); one subscriber's transceiver sends RED (room:subscribe{red="on"}),
-- the other's negotiated no RED at all (red="off"). The RED subscriber's leg runs
-- through a UDP relay in this process that drops isolated audio RTP packets.
-- Checked: the SFU's connection gets RED from the publisher; the RED subscriber gets RED
-- packets and every dropped packet is rebuilt from the copy in the packet after it (no
-- retransmission involved), so it gets every frame the consumer sent; the plain
-- subscriber gets plain Opus only, every packet; both decode the 440 Hz tone.
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local pcm = require "support.pcm"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }

local function first_host(sdp)
  local host, port = sdp:match("a=candidate:%S+ 1 udp %d+ (127%.0%.0%.1) (%d+) typ host")
  return host, tonumber(port)
end
-- The description with its candidates replaced by one host candidate at port.
local function via(desc, port)
  local sdp = desc.sdp:gsub("a=candidate:[^\r\n]*\r\n", "")
  sdp = sdp:gsub("(a=mid:[^\r\n]*\r\n)", "%1a=candidate:1 1 udp 2130706431 127.0.0.1 " .. port .. " typ host\r\n", 1)
  return { type = desc.type, sdp = sdp }
end

-- a offers, b answers; everything between them crosses two relay sockets, and what a
-- sends to b goes through drop(data) first (true: the datagram is lost).
local function relayed_pair(a, b, drop)
  local ra = assert(rtc.udp { host = "127.0.0.1" })   -- a's peer address for b
  local rb = assert(rtc.udp { host = "127.0.0.1" })   -- b's peer address for a
  local _, ra_port = ra:local_address()
  local _, rb_port = rb:local_address()
  assert(a:set_local_description(assert(a:create_offer())))
  a:wait_gathering_complete()
  local a_host, a_port = first_host(a.local_description.sdp)
  assert(b:set_remote_description(via(a.local_description, rb_port)))
  assert(b:set_local_description(assert(b:create_answer())))
  b:wait_gathering_complete()
  local b_host, b_port = first_host(b.local_description.sdp)
  ra:on("message", function(data) if not drop(data) then rb:send(data, b_host, b_port) end end)
  rb:on("message", function(data) ra:send(data, a_host, a_port) end)
  assert(a:set_remote_description(via(b.local_description, ra_port)))
  wait_for(function() return a.connection_state == "connected" and b.connection_state == "connected" end,
           "relayed pair connected")
  return { ra, rb }
end

local function inbound(pc)
  for _, st in pairs(pc:get_stats()) do
    if st.type == "inbound-rtp" and st.kind == "audio" then return st end
  end
end

-- RTP (not RTCP, RFC 5761 section 4) by its clear header bytes.
local function is_rtp(data)
  local b0, b1 = data:byte(1, 2)
  return b0 and b0 >= 128 and b0 < 192 and #data >= 12 and not ((b1 & 0x7f) >= 64 and (b1 & 0x7f) < 96)
end

describe("rtc.sfu RED", function()
  it("sends RED with its redundancy to the subscriber that takes it and plain Opus to the other", function()
    run_task(function()
      local room = sfu.room { name = "red" }
      local pub = assert(rtc.peer_connection(LOCAL))
      local mic = rtc.media_track("audio")
      assert(pub:add_transceiver(mic, { direction = "sendonly", red = "on" }))
      local s0 = assert(rtc.peer_connection(LOCAL))
      local producer
      s0:on("track", function(track) producer = assert(room:publish(track)) end)
      pcpair(pub, s0)
      assert.matches("a=rtpmap:%d+ red/48000/2", s0.remote_description.sdp)
      local tone = assert(rtc.media.tone_source { frequency = 440, amplitude = 0.3, duration = 60 })
      tone:on("frame", function(f) mic:write_frame(f) end)
      tone:start()

      local function bot(name, red)
        local s = assert(rtc.peer_connection(LOCAL))   -- the SFU's side
        local b = assert(rtc.peer_connection(LOCAL))
        local sub = { name = name, sfu_pc = s, pc = b, audio = {} }
        sub.consumer = assert(room:subscribe(s, producer, { red = red }))
        b:on("track", function(track)
          track:on("pcm", function(p) sub.audio[#sub.audio + 1] = p.samples end)
        end)
        return sub
      end
      local red, plain = bot("red", "on"), bot("plain", "off")
      -- isolated drops on the RED leg: every 7th audio RTP packet, 12 of them
      local nrtp, dropped, dropping = 0, 0, true
      local relay = relayed_pair(red.sfu_pc, red.pc, function(data)
        if not dropping or not is_rtp(data) then return false end
        nrtp = nrtp + 1
        if nrtp > 25 and nrtp % 7 == 0 then
          dropped = dropped + 1
          if dropped == 12 then dropping = false end
          return true
        end
        return false
      end)
      pcpair(plain.sfu_pc, plain.pc)
      assert.matches("a=rtpmap:%d+ red/48000/2", red.pc.remote_description.sdp)
      assert.not_matches("red/48000", plain.pc.remote_description.sdp)

      wait_for(function() return not dropping and #red.audio >= 150 and #plain.audio >= 150 end,
               "audio at both subscribers", 20000)
      tone:stop()
      -- quiet: what each consumer sent has arrived
      local function settled(sub)
        local st = inbound(sub.pc)
        local sent = sub.consumer:stats().packets_sent
        return st and sent > 0 and st.packetsReceived + (st.redRecovered or 0) == sent
      end
      wait_for(function() return settled(red) and settled(plain) end, "every packet accounted for", 10000)

      local ps = inbound(s0)
      assert.is_true(ps.redPacketsReceived > 0)              -- the publisher sends RED
      local rs, pls = inbound(red.pc), inbound(plain.pc)
      local rsent, psent = red.consumer:stats().packets_sent, plain.consumer:stats().packets_sent
      assert.equal(12, dropped)
      assert.equal(rsent, rs.redPacketsReceived + dropped)   -- every packet that arrived was RED
      assert.equal(dropped, rs.redRecovered)                 -- each loss rebuilt from the next packet
      assert.equal(rsent - dropped, rs.packetsReceived)
      assert.equal(0, rs.packetsRepaired or 0)               -- not by NACK
      assert.equal(0, pls.redPacketsReceived)
      assert.equal(0, pls.redRecovered)
      assert.equal(psent, pls.packetsReceived)
      assert.equal(0, pls.packetsLost)
      for _, sub in ipairs { red, plain } do
        local t = table.concat(sub.audio, "", #sub.audio - 40, #sub.audio - 5)
        local hz = pcm.zero_crossing_hz(t)
        assert(hz and math.abs(hz - 440) < 15, sub.name .. ": tone at " .. tostring(hz) .. " Hz")
      end
      for _, s in ipairs(relay) do s:close() end
      for _, pc in ipairs { pub, s0, red.pc, red.sfu_pc, plain.pc, plain.sfu_pc } do pc:close() end
      room:close()
    end, 60000)
  end)
end)
