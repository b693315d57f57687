-- pc:get_stats() against the W3C webrtc-stats dictionaries: every entry has a type the
-- spec defines and only members that type's dictionary (with its parents) has, apart
-- from a few documented extensions; ids point at entries that exist; enumerated values
-- are the spec's; each candidate is listed once.
local rtc = require "rtc"
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }

local function set(list) local t = {}; for w in list:gmatch("%S+") do t[w] = true end; return t end
local BASE = "id type timestamp "
local RTP = BASE .. "ssrc kind transportId codecId "
local RECEIVED = RTP .. "packetsReceived packetsReceivedWithEct1 packetsReceivedWithCe packetsReportedAsLost " ..
                 "packetsReportedAsLostButRecovered packetsLost jitter "
local SENT = RTP .. "packetsSent bytesSent "
-- Member names per type, as the W3C dictionaries (RTCStats and its children) define them.
local W3C = {
  codec = set(BASE .. "payloadType transportId mimeType clockRate channels sdpFmtpLine"),
  ["inbound-rtp"] = set(RECEIVED .. "trackIdentifier mid remoteId framesDecoded keyFramesDecoded framesRendered " ..
    "framesDropped frameWidth frameHeight framesPerSecond qpSum totalDecodeTime totalInterFrameDelay " ..
    "totalSquaredInterFrameDelay pauseCount totalPausesDuration freezeCount totalFreezesDuration " ..
    "lastPacketReceivedTimestamp headerBytesReceived packetsDiscarded fecBytesReceived fecPacketsReceived " ..
    "fecPacketsDiscarded bytesReceived nackCount firCount pliCount totalProcessingDelay estimatedPlayoutTimestamp " ..
    "jitterBufferDelay jitterBufferTargetDelay jitterBufferEmittedCount jitterBufferMinimumDelay totalSamplesReceived " ..
    "concealedSamples silentConcealedSamples concealmentEvents insertedSamplesForDeceleration " ..
    "removedSamplesForAcceleration audioLevel totalAudioEnergy totalSamplesDuration framesReceived " ..
    "decoderImplementation playoutId powerEfficientDecoder framesAssembledFromMultiplePackets totalAssemblyTime " ..
    "retransmittedPacketsReceived retransmittedBytesReceived rtxSsrc fecSsrc"),
  ["remote-inbound-rtp"] = set(RECEIVED .. "localId roundTripTime totalRoundTripTime fractionLost " ..
    "roundTripTimeMeasurements"),
  ["outbound-rtp"] = set(SENT .. "mid mediaSourceId remoteId rid encodingIndex headerBytesSent " ..
    "retransmittedPacketsSent retransmittedBytesSent rtxSsrc targetBitrate totalEncodedBytesTarget frameWidth " ..
    "frameHeight framesPerSecond framesSent hugeFramesSent framesEncoded keyFramesEncoded qpSum totalEncodeTime " ..
    "totalPacketSendDelay qualityLimitationReason qualityLimitationResolutionChanges nackCount firCount pliCount " ..
    "encoderImplementation powerEfficientEncoder active scalabilityMode"),
  ["remote-outbound-rtp"] = set(SENT .. "localId remoteTimestamp reportsSent roundTripTime totalRoundTripTime " ..
    "roundTripTimeMeasurements"),
  ["peer-connection"] = set(BASE .. "dataChannelsOpened dataChannelsClosed"),
  ["data-channel"] = set(BASE .. "label protocol dataChannelIdentifier state messagesSent bytesSent " ..
    "messagesReceived bytesReceived"),
  transport = set(BASE .. "packetsSent packetsReceived bytesSent bytesReceived iceRole iceLocalUsernameFragment " ..
    "dtlsState iceState selectedCandidatePairId localCertificateId remoteCertificateId tlsVersion dtlsCipher " ..
    "dtlsRole srtpCipher selectedCandidatePairChanges"),
  ["local-candidate"] = set(BASE .. "transportId address port protocol candidateType priority url relayProtocol " ..
    "foundation relatedAddress relatedPort usernameFragment tcpType"),
  ["candidate-pair"] = set(BASE .. "transportId localCandidateId remoteCandidateId state nominated packetsSent " ..
    "packetsReceived bytesSent bytesReceived lastPacketSentTimestamp lastPacketReceivedTimestamp " ..
    "totalRoundTripTime currentRoundTripTime availableOutgoingBitrate availableIncomingBitrate requestsReceived " ..
    "requestsSent responsesReceived responsesSent consentRequestsSent packetsDiscardedOnSend bytesDiscardedOnSend"),
  certificate = set(BASE .. "fingerprint fingerprintAlgorithm base64Certificate issuerCertificateId"),
}
W3C["remote-candidate"] = W3C["local-candidate"]
-- Extensions the docs name: inbound-rtp's (docs/media.md), transport's TURN-over-TCP
-- counters (docs/peer-connection.md).
local EXTRA = { ["inbound-rtp"] = set("packetsRepaired redPacketsReceived redRecovered fecRecovered"),
                transport = set("turnTcpBytesSent turnTcpDropped turnTcpQueued") }

local ENUMS = {
  candidateType = set("host srflx prflx relay"),
  protocol = set("udp tcp"),
  dtlsState = set("new connecting connected closed failed"),
  iceState = set("new checking connected completed disconnected failed closed"),
  iceRole = set("unknown controlling controlled"),
  dtlsRole = set("client server unknown"),
  kind = set("audio video"),
}
local PAIR_STATES = set("frozen waiting in-progress failed succeeded")
local DC_STATES = set("connecting open closing closed")
local REFS = { "transportId", "codecId", "localCandidateId", "remoteCandidateId", "selectedCandidatePairId",
               "localCertificateId", "remoteCertificateId", "localId", "remoteId" }

local function check_report(report)
  local types, cands = {}, {}
  for id, s in pairs(report) do
    assert.equal(id, s.id)
    local allowed = W3C[s.type]
    assert(allowed, "not a W3C stats type: " .. tostring(s.type))
    types[s.type] = (types[s.type] or 0) + 1
    assert.is_number(s.timestamp)
    for k, v in pairs(s) do
      assert(allowed[k] or (EXTRA[s.type] or {})[k], s.type .. " has no member '" .. k .. "' in W3C webrtc-stats")
      -- (a data channel's protocol is the application's string)
      if ENUMS[k] and not (k == "protocol" and s.type == "data-channel") then
        assert(ENUMS[k][v], s.type .. "." .. k .. " = " .. tostring(v))
      end
    end
    for _, r in ipairs(REFS) do
      if s[r] ~= nil then assert(report[s[r]], s.type .. "." .. r .. " names a missing entry " .. tostring(s[r])) end
    end
    if s.type == "candidate-pair" then assert(PAIR_STATES[s.state], s.state) end
    if s.type == "data-channel" then assert(DC_STATES[s.state], s.state) end
    if s.type == "local-candidate" or s.type == "remote-candidate" then
      local key = table.concat({ s.type, s.address, s.port, s.protocol, s.candidateType }, " ")
      assert(not cands[key], "candidate listed twice: " .. key)
      cands[key] = true
    end
  end
  return types
end

local function find(report, t, pred)
  for _, s in pairs(report) do if s.type == t and (not pred or pred(s)) then return s end end
end

describe("get_stats W3C names", function()
  it("has only W3C types and members, valid references and values, each candidate once", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      local mic, cam = rtc.media_track("audio"), rtc.media_track("video")
      a:add_track(mic); a:add_track(cam)
      local dc = a:create_data_channel("stats")
      local frames = 0
      b:on("track", function(t) t:on("frame", function() frames = frames + 1 end) end)
      assert(a:set_local_description())
      a:wait_gathering_complete()
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description())
      b:wait_gathering_complete()
      assert(a:set_remote_description(b.local_description))
      assert(dc:wait_open())
      local ts, i = 0, 0
      wait_for(function()
        i = i + 1
        ts = ts + 3000
        mic:write_frame { data = "\x78" .. string.rep("a", 60), timestamp = ts }
        cam:write_frame { data = "\x10\0\0\x9d\x01\x2a" .. string.rep(string.char(i % 256), 300), timestamp = ts }
        return frames > 20
      end, "frames")
      dc:send("x")
      rtc.sleep(1.2)   -- a receiver report or two: remote-inbound-rtp
      for _, pc in ipairs { a, b } do
        local report = pc:get_stats()
        local types = check_report(report)
        for _, t in ipairs { "peer-connection", "transport", "candidate-pair", "local-candidate",
                             "remote-candidate", "certificate", "data-channel", "codec" } do
          assert(types[t], "no " .. t)
        end
        local tr = report.T01
        assert.equal("connected", tr.dtlsState)
        assert.equal("connected", tr.iceState:gsub("completed", "connected"), tr.iceState)
        assert.equal(pc == a and "controlling" or "controlled", tr.iceRole)
        assert.matches(tr.iceLocalUsernameFragment, pc.local_description.sdp, 1, true)
        local pair = report[tr.selectedCandidatePairId]
        assert.equal("candidate-pair", pair.type)
        assert.equal("succeeded", pair.state)
        assert.is_true(pair.nominated)
        -- round trips from the checks (and consent) answered on it
        assert.is_true(pair.responsesReceived > 0)
        assert.is_true(pair.requestsSent > 0 and pair.requestsReceived > 0 and pair.responsesSent > 0)
        assert.is_number(pair.currentRoundTripTime)
        assert.is_true(pair.currentRoundTripTime >= 0 and pair.currentRoundTripTime < 1)   -- seconds
        assert.is_true(pair.totalRoundTripTime >= pair.currentRoundTripTime)
        local l, r = report[pair.localCandidateId], report[pair.remoteCandidateId]
        assert.equal("local-candidate", l.type)
        assert.equal("remote-candidate", r.type)
        for _, c in ipairs { l, r } do
          assert.equal("127.0.0.1", c.address)
          assert.is_number(c.port)
          assert.is_string(c.foundation)
          assert.is_true(math.type(c.priority) == "integer" and c.priority > 0)
        end
        assert.equal(tr.iceLocalUsernameFragment, l.usernameFragment)
        assert.is_number(find(report, "data-channel").dataChannelIdentifier)
      end
      local sa, sb = a:get_stats(), b:get_stats()
      local out = find(sa, "outbound-rtp", function(s) return s.kind == "video" end)
      local inb = find(sb, "inbound-rtp", function(s) return s.kind == "video" end)
      assert.equal(out.ssrc, inb.ssrc)
      assert.is_true(inb.packetsReceived > 0 and inb.bytesReceived > 0)
      assert.is_number(inb.jitter)
      assert.is_true(inb.jitter < 1)             -- seconds, not timestamp units
      assert.is_true(out.active)
      local ri = sa[out.remoteId]
      assert.equal("remote-inbound-rtp", ri.type)
      assert.equal(out.id, ri.localId)
      -- b's receiver reports: loss, jitter and round trips (needs one of a's SRs first)
      wait_for(function()
        sa = a:get_stats()
        return sa[out.remoteId].roundTripTimeMeasurements > 0
      end, "a receiver report answering a sender report")
      ri = sa[out.remoteId]
      assert.equal(0, ri.packetsLost)
      assert.is_number(ri.jitter)
      assert.is_number(ri.roundTripTime)
      assert.is_true(ri.totalRoundTripTime >= ri.roundTripTime)
      -- a's sender reports, as b sees them: remote-outbound-rtp
      sb = b:get_stats()
      inb = sb[inb.id]
      local ro = sb[inb.remoteId]
      assert.equal("remote-outbound-rtp", ro.type)
      assert.equal(inb.id, ro.localId)
      assert.equal(inb.ssrc, ro.ssrc)
      assert.equal("video", ro.kind)
      assert.is_true(ro.reportsSent >= 1)
      assert.is_true(ro.packetsSent > 0 and ro.bytesSent > 0)
      assert.is_true(ro.packetsSent <= sa[out.id].packetsSent)
      -- the SR's NTP time in ms since 1970: within a day of this clock
      assert.is_true(math.abs(ro.remoteTimestamp - os.time() * 1000) < 86400e3, tostring(ro.remoteTimestamp))
      a:close(); b:close()
      check_report(a:get_stats())
    end)
  end)

  it("lists every candidate pair of the checklist, each with its own state and counters", function()
    run_task(function()
      local TWO = { bind_addresses = { "127.0.0.1", "127.0.0.2" } }
      local a = assert(rtc.peer_connection(TWO))
      local b = assert(rtc.peer_connection(TWO))
      local dc = a:create_data_channel("pairs")
      assert(a:set_local_description())
      a:wait_gathering_complete()
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description())
      b:wait_gathering_complete()
      assert(a:set_remote_description(b.local_description))
      assert(dc:wait_open())
      for _, pc in ipairs { a, b } do
        local report = pc:get_stats()
        check_report(report)
        local pairs_seen, selected, combos = 0, 0, {}
        for id, s in pairs(report) do
          if s.type == "candidate-pair" then
            pairs_seen = pairs_seen + 1
            local l, r = report[s.localCandidateId], report[s.remoteCandidateId]
            local key = l.address .. ":" .. l.port .. " " .. r.address .. ":" .. r.port
            assert.is_nil(combos[key], "two entries for " .. key)
            combos[key] = true
            assert.is_number(s.requestsSent)
            assert.is_number(s.responsesReceived)
            if id == report.T01.selectedCandidatePairId then
              selected = selected + 1
              assert.equal("succeeded", s.state)
              assert.is_true(s.nominated)
              assert.is_true(s.bytesSent > 0 and s.bytesReceived > 0)
              assert.is_number(s.currentRoundTripTime)
            else
              assert.is_nil(s.bytesSent)       -- only the selected pair carries data
            end
          end
        end
        -- two host candidates each side: four pairs, one of them selected
        assert.equal(4, pairs_seen)
        assert.equal(1, selected)
      end
      a:close(); b:close()
    end)
  end)
end)
