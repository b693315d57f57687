-- PCM audio between luartc and a real headless Chromium, through the interop peer
-- contract's `pcm` test (docs/interop.md), inside a private network namespace. Both
-- sides send a tone on one sendrecv audio track: Chromium a WebAudio oscillator,
-- luartc PCM through track:write_pcm (so its Opus encoder runs with Chromium's fmtp).
-- luartc hears with track:on("pcm") and hands the PCM over in a file, analysed here;
-- Chromium hears through getStats and an AnalyserNode on the received track.
local interop = require "interop.helper"
local pcm = require "support.pcm"

local check = interop.check

local function read(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("a")
  f:close()
  return d
end

-- What luartc heard: the frequency after the first 200 ms (the codec's start-up).
local function heard_hz(path)
  local all = read(path)
  assert.is_true(#all >= 2 * 48000 * 2, "only " .. #all // 2 .. " samples heard")
  local tail = all:sub(2 * 9600 + 1)
  local hz = pcm.zero_crossing_hz(tail)
  local peak = pcm.clear_peak(tail, hz and math.floor(hz + 0.5) or 1000)
  return hz, peak
end

-- The params of an fmtp value as a set of "k=v".
local function params(fmtp)
  local out = {}
  for kv in tostring(fmtp or ""):gmatch("[^;%s]+") do out[kv] = true end
  return out
end

local function chromium_heard(r, want_hz)
  assert.equal("audio/opus", r.codec)
  assert.is_true(r.packets_received > 100, tostring(r.packets_received))
  assert.is_true(r.total_audio_energy > 0, tostring(r.total_audio_energy))
  -- A 0.25 full-scale sine: clearly above silence.
  assert.is_true(r.audio_energy > 0.05, tostring(r.audio_energy))
  assert.is_true(r.packets_lost >= 0, tostring(r.packets_lost))
  assert.is_number(r.frequency_hz, "Chromium's analyser found no tone: " .. require("rtc").json.encode(r.snapshots))
  assert.is_true(math.abs(r.frequency_hz - want_hz) < 3,
                 "Chromium heard " .. tostring(r.frequency_hz) .. " Hz, not " .. want_hz)
end

describe("luartc <-> Chromium PCM audio", function()
  it("Chromium offers a 660 Hz tone with in-band FEC; luartc hears it as PCM and answers 440 Hz PCM with FEC on", function()
    local out = os.tmpname()
    local res = interop.pair(interop.browser { "--role", "offer", "--test", "pcm", "--duration", "3", "--frequency", "660" },
                             interop.luartc { "--role", "answer", "--test", "pcm", "--duration", "3",
                                              "--frequency", "440", "--pcm-out", out })
    check(res, "pcm chromium->luartc")
    local a, b = res.a, res.b
    -- (a) luartc's track:on("pcm") carries Chromium's tone
    assert.equal(1, b.channels)
    assert.is_true(b.pcm_samples >= 3 * 48000 * 0.95, tostring(b.pcm_samples))
    assert.is_true(b.audio_energy > 0.05, tostring(b.audio_energy))
    assert.is_true(b.concealed_chunks <= b.pcm_chunks // 10, b.concealed_chunks .. " of " .. b.pcm_chunks .. " concealed")
    local hz, peak = heard_hz(out)
    os.remove(out)
    assert.is_true(math.abs(hz - 660) < 3, "luartc heard " .. tostring(hz) .. " Hz")
    assert.is_true(peak, "no clear peak at " .. hz .. " Hz")
    -- (c) Chromium's offer asks for in-band FEC; the encoder sending back to it has it on
    assert.is_true(params(b.remote_opus_fmtp)["useinbandfec=1"], tostring(b.remote_opus_fmtp))
    assert.equal(b.remote_opus_fmtp, b.encoder.fmtp)
    assert.is_true(b.encoder.fec)
    assert.is_true(b.encoder.packet_loss_perc > 0)
    assert.is_false(b.encoder.dtx)
    assert.is_true(b.encoder.frames >= 150, tostring(b.encoder.frames))
    -- our answer states our own receive preferences, and Chromium read them as such
    assert.equal("minptime=10;useinbandfec=1", b.local_opus_fmtp)
    assert.equal(b.local_opus_fmtp, a.remote_opus_fmtp)
    -- (b) Chromium hears luartc's PCM tone
    chromium_heard(a, 440)
  end)

  it("luartc offers an 880 Hz PCM tone; Chromium answers, hears it and speaks back", function()
    local out = os.tmpname()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "pcm", "--duration", "3",
                                              "--frequency", "880", "--pcm-out", out },
                             interop.browser { "--role", "answer", "--test", "pcm", "--duration", "3", "--frequency", "523" })
    check(res, "pcm luartc->chromium")
    local a, b = res.a, res.b
    chromium_heard(b, 880)
    assert.is_true(b.packets_sent > 100, tostring(b.packets_sent))
    -- Chromium answers with its own preferences; our encoder follows them
    assert.equal("minptime=10;useinbandfec=1", a.local_opus_fmtp)
    assert.equal(b.local_opus_fmtp, a.remote_opus_fmtp)
    assert.equal(a.remote_opus_fmtp, a.encoder.fmtp)
    assert.equal(params(a.remote_opus_fmtp)["useinbandfec=1"] == true, a.encoder.fec)
    local hz, peak = heard_hz(out)
    os.remove(out)
    assert.is_true(math.abs(hz - 523) < 3, "luartc heard " .. tostring(hz) .. " Hz")
    assert.is_true(peak)
  end)

  it("a transceiver added with stereo = true asks Chromium for stereo, and its PCM arrives in two channels", function()
    local out = os.tmpname()
    local res = interop.pair(interop.luartc { "--role", "offer", "--test", "pcm", "--duration", "2", "--stereo",
                                              "--frequency", "880", "--pcm-out", out },
                             interop.browser { "--role", "answer", "--test", "pcm", "--duration", "2", "--frequency", "523" })
    check(res, "pcm stereo")
    local a, b = res.a, res.b
    assert.same(params("minptime=10;useinbandfec=1;stereo=1"), params(b.remote_opus_fmtp))
    assert.equal(2, a.channels)
    local hz = heard_hz(out)           -- the first channel
    os.remove(out)
    assert.is_true(math.abs(hz - 523) < 3, "luartc heard " .. tostring(hz) .. " Hz")
    chromium_heard(b, 880)
  end)
end)
