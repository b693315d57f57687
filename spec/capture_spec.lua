-- Decrypted captures (pc:capture, RTC_CAPTURE_DIR, SSLKEYLOGFILE) read back by
-- Debian's tshark: RTP payload types, RTCP SR/RR, NACKs and the RTX that answers
-- them (under loss iptables makes in a namespace of the test's own), the DCEP OPEN
-- and data channel messages of a call between two connections in a luartc child.
local rtc = require "rtc"
local child = require "support.child"
local tmp = require "support.tmp"
local clips = require "support.clips"
local loop = require "support.loop"
local pair = require "support.pcpair"
local q = child.quote

local function tshark(file, args)
  return child.sh(string.format("tshark -r %s %s 2>/dev/null", q(file), args), 60)
end

local function counts(text)
  local c = {}
  for line in text:gmatch("[^\n]+") do c[line] = (c[line] or 0) + 1 end
  return c
end

describe("decrypted captures", function()
  teardown(tmp.clean)

  it("tshark decodes RTP, RTCP with NACKs and their RTX answers, DCEP and data channel messages; the DTLS keys are logged",
     function()
    local cap, keys, ivf = tmp.file(".pcapng"), tmp.file(), clips.vp8()
    -- The call runs in a network namespace of its own, where iptables drops 10% of the
    -- datagrams whose second byte says RTP payload type 96 (VP8; the RTP header is not
    -- encrypted by SRTP): b NACKs them, a resends them on the RTX payload type. Only
    -- VP8 is dropped, so the Opus count and the handshakes stay exact.
    local drop = "iptables -A INPUT -p udp -m u32 --u32 '0>>22&0x3C@8>>16&0x7F=96' " ..
                 "-m statistic --mode random --probability 0.1 -j DROP"
    local code, out, err = child.run { child.SOURCE_DIR .. "/spec/capture_call.lua", cap, ivf,
                                       env = "SSLKEYLOGFILE=" .. q(keys),
                                       exe = "unshare -n sh -c " .. q("ip link set lo up && " .. drop ..
                                                                       " && exec \"$0\" \"$@\"") ..
                                             " " .. q(child.LUARTC) }
    assert.equal(0, code, err)
    local res = assert(rtc.json.decode(out:match("(%b{})%s*$")), out)
    assert.is_true(res.packets > 100)
    -- every packet written is one tshark reads
    local all = tshark(cap, "-T fields -e frame.number")
    assert.equal(res.packets, select(2, all:gsub("\n", "")))
    -- RTP: the Opus payload type of the SDP (or RED around Opus, RFC 2198, when both
    -- sides negotiated it), 151 frames sent
    local pts = counts(tshark(cap, "-o rtp.heuristic_rtp:TRUE -Y rtp -T fields -e rtp.p_type"))
    local red = res.red_pt and pts[tostring(res.red_pt)] or 0
    assert.equal(151, (pts[tostring(res.opus_pt)] or 0) + red)
    -- RTCP: sender reports from a, receiver reports from b (each with its SDES)
    local rtcp = tshark(cap, "-o rtp.heuristic_rtp:TRUE -o rtcp.heuristic_rtcp:TRUE -Y rtcp -T fields -e rtcp.pt")
    assert.matches("200", rtcp)
    assert.matches("201", rtcp)
    -- NACKs (RTPFB, FMT 1) from b for the VP8 packets the namespace dropped, and a's
    -- RTX answers: each one's original sequence number (the first two bytes of its
    -- payload, RFC 4588) is one b NACKed
    assert.equal(96, res.vp8_pt)
    local nacked = {}
    local nacks = tshark(cap, "-o rtp.heuristic_rtp:TRUE -o rtcp.heuristic_rtcp:TRUE -Y 'rtcp.rtpfb.fmt==1' " ..
                              "-T fields -E occurrence=a -e rtcp.rtpfb.nack_pid -e rtcp.rtpfb.nack_blp")
    for line in nacks:gmatch("[^\n]+") do
      local pids, blps = line:match("^([%d,]+)\t([%x,x]+)$")
      assert(pids, line)
      local bl = {}
      for b in blps:gmatch("0x(%x+)") do bl[#bl + 1] = tonumber(b, 16) end
      local i = 0
      for pid in pids:gmatch("%d+") do
        i = i + 1
        pid = tonumber(pid)
        nacked[pid] = true
        for bit = 0, 15 do
          if (bl[i] or 0) & (1 << bit) ~= 0 then nacked[(pid + bit + 1) & 0xffff] = true end
        end
      end
    end
    assert.is_not_nil(next(nacked), "no NACK in the capture")
    local rtx = tshark(cap, "-o rtp.heuristic_rtp:TRUE -Y 'rtp.p_type==" .. res.rtx_pt .. "' -T fields -e rtp.payload")
    local resent = 0
    for hex in rtx:gmatch("%x+") do
      local osn = tonumber(hex:sub(1, 4), 16)
      assert.is_true(nacked[osn], "RTX of " .. osn .. ", which was not NACKed")
      resent = resent + 1
    end
    assert.is_true(resent > 0, "no RTX in the capture")
    -- DCEP: the OPEN (type 3) with label and protocol, and the ACK (2)
    local dcep = tshark(cap, "-Y rtcdc -T fields -e rtcdc.message_type -e rtcdc.label -e rtcdc.protocol")
    assert.matches("3\tchat\tdemo", dcep)
    assert.matches("\n?2\t", dcep)
    -- data channel messages: PPID 51 (string), the text as sent
    local msgs = tshark(cap, "-Y sctp.data_payload_proto_id==51 -T fields -e data.data")
    local texts = {}
    for hex in msgs:gmatch("%x+") do texts[#texts + 1] = (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)) end
    assert.same({ "hello 0", "hello 25", "hello 50", "hello 75", "hello 100", "hello 125", "hello 150" }, texts)
    -- STUN as it was
    assert.matches("Binding Request", tshark(cap, "-Y stun"))
    -- keys: NSS key log lines for each side's handshake
    local k = child.slurp(keys)
    assert.matches("^CLIENT_RANDOM %x+ %x+\n", k)
  end)

  it("RTC_CAPTURE_DIR captures every connection of the process to DIR/<id>.pcapng", function()
    local dir = child.tmpdir()
    local path = child.script [[
      local rtc = require "rtc"
      local pair = require "support.pcpair"
      rtc.spawn(function()
        local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
        local b = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
        local at_b = false
        b:on("datachannel", function() at_b = true end)
        a:create_data_channel("x")
        pair(a, b)
        -- a's channel is open once a has sent the OPEN; both files hold it once b has
        -- read it (a close right after a's "open" may come before b reads its socket)
        while not at_b do rtc.sleep(0.01) end
        print(a.id, b.id)
        a:close(); b:close()
      end)
    ]]
    local code, out, err = child.run { path, env = "RTC_CAPTURE_DIR=" .. q(dir) }
    os.remove(path)
    assert.equal(0, code, err)
    local ida, idb = out:match("(pc%d+)\t(pc%d+)")
    for _, id in ipairs { ida, idb } do
      local f = dir .. "/" .. id .. ".pcapng"
      assert.matches("DATA_CHANNEL_OPEN", tshark(f, ""))
      os.remove(f)
    end
    os.execute("rmdir " .. q(dir))
  end)

  it("refuses a file it cannot create and bad arguments", function()
    loop.run_task(function()
      local a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local ok, err = a:capture("/nonexistent-dir/x.pcapng")
      assert.is_nil(ok)
      assert.matches("cannot capture to '/nonexistent%-dir/x%.pcapng'", err)
      assert.equal(0, a:stop_capture())
      assert.has_error(function() a:capture(5) end, "bad argument #1 to 'capture' (file path expected)")
      a:close()
      assert.equal(0, a:stop_capture())
    end)
  end)

  it("writes IP and UDP headers with valid checksums, over IPv4 and IPv6", function()
    for _, ip in ipairs { "127.0.0.1", "::1" } do
      local cap = tmp.file()
      loop.run_task(function()
        local a <close> = assert(rtc.peer_connection { bind_addresses = { ip } })
        local b <close> = assert(rtc.peer_connection { bind_addresses = { ip } })
        assert(a:capture(cap))
        local got
        b:on("datachannel", function(ch) ch:on("message", function(m) got = m end) end)
        local dc = a:create_data_channel("x")
        pair(a, b)
        loop.wait_for(function() return dc.ready_state == "open" end, "the channel to open")
        dc:send(string.rep("odd", 333))   -- an odd length
        -- b has it, so the datagram that carried it is in a's capture
        loop.wait_for(function() return got ~= nil end, "the message at b")
        assert.equal(999, #got)
        assert(a:stop_capture())
      end)
      local opts = "-o udp.check_checksum:TRUE -o ip.check_checksum:TRUE"
      local good = tshark(cap, opts .. " -Y udp.checksum.status==1 -T fields -e frame.number")
      local bad = tshark(cap, opts .. " -Y 'udp.checksum.status==0 or ip.checksum.status==0 or _ws.malformed'" ..
                              " -T fields -e frame.number")
      local all = tshark(cap, "-T fields -e frame.number")
      assert.is_true(#all > 0, ip)
      assert.equal(all, good, ip)
      assert.equal("", bad, ip)
      local src = tshark(cap, "-T fields -e " .. (ip == "::1" and "ipv6.src" or "ip.src"))
      assert.matches(ip == "::1" and "::1" or "127%.0%.0%.1", src)
    end
  end)

  it("stop_capture returns the packet count of a capture in a one-process call", function()
    local cap, n = tmp.file(), nil
    loop.run_task(function()
      local a <close> = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      local b <close> = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
      assert(b:capture(cap))
      local opened = false
      b:on("datachannel", function() opened = true end)
      a:create_data_channel("x")
      pair(a, b)
      -- b has seen STUN, both DTLS flights, the SCTP handshake and the DCEP OPEN
      loop.wait_for(function() return opened end, "the channel at b")
      n = assert(b:stop_capture())
    end)
    assert.is_true(n > 4)
    local frames = tshark(cap, "-T fields -e frame.number")
    assert.equal(n, select(2, frames:gsub("\n", "")))
  end)
end)
