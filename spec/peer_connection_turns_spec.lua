-- TURN over TLS (turns:) from our peer connections: two relay-only peers
-- (ice_transport_policy = "relay", so no host candidate) that can only meet through a
-- turns: relay, against our own TURN server's TLS listener (modules/turn.lua) and
-- against Debian's coturn with TLS. The certificates come from the openssl CLI: a test
-- CA signs the servers' certificate (SAN DNS:localhost only); a second CA signs nothing
-- the servers use. The client trusts the test CA through the ICE server's tls_ca_file.
local rtc = require "rtc"
local turn = require "turn"
local loop = require "support.loop"
local coturn = require "support.coturn"
local child = require "support.child"
local tmp = require "support.tmp"
local run_task, wait_for = loop.run_task, loop.wait_for
local q = child.quote

local function sh_ok(cmd) assert(os.execute(cmd .. " 2>/dev/null"), cmd) end

-- A CA, and a server certificate for "localhost" it signs; returns their file names.
local function make_pki()
  local ca, ca_key, other_ca, other_key = tmp.file(), tmp.file(), tmp.file(), tmp.file()
  local cert, key, csr, ext = tmp.file(), tmp.file(), tmp.file(), tmp.file()
  local gen = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 " ..
              "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"
  sh_ok(string.format("%s -keyout %s -out %s -subj /CN=luartc-test-ca", gen, q(ca_key), q(ca)))
  sh_ok(string.format("%s -keyout %s -out %s -subj /CN=another-ca", gen, q(other_key), q(other_ca)))
  sh_ok(string.format("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes " ..
                      "-keyout %s -out %s -subj /CN=localhost", q(key), q(csr)))
  local f = assert(io.open(ext, "w"))
  f:write("subjectAltName=DNS:localhost\n")
  f:close()
  sh_ok(string.format("openssl x509 -req -in %s -CA %s -CAkey %s -set_serial 7 -days 2 -extfile %s -out %s",
                      q(csr), q(ca), q(ca_key), q(ext), q(cert)))
  return { ca = ca, other_ca = other_ca, other_key = other_key, cert = cert, key = key }
end

local function turns_pc(url, ca_file)
  return assert(rtc.peer_connection {
    bind_addresses = { "127.0.0.1" }, ice_transport_policy = "relay",
    ice_servers = { { urls = url, username = "alice", credential = "secret", tls_ca_file = ca_file } },
  })
end

-- Two peers through the relay: every candidate is a relay over TLS, a message goes
-- across, and the stats of the selected pair's local candidate say relayProtocol "tls".
-- late: a is made without servers and given the turns: one by set_configuration.
local function relay_through(url, ca_file, late)
  run_task(function()
    local a, b
    if late then
      a = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" }, ice_transport_policy = "relay" })
      assert(a:set_configuration { ice_transport_policy = "relay", ice_servers = {
        { urls = url, username = "alice", credential = "secret", tls_ca_file = ca_file } } })
    else
      a = turns_pc(url, ca_file)
    end
    b = turns_pc(url, ca_file)
    local types, errors = {}, {}
    for _, x in ipairs { a, b } do
      x:on("icecandidate", function(c) if c then types[#types + 1] = c.candidate:match("typ (%a+)") end end)
      x:on("icecandidateerror", function(e) errors[#errors + 1] = e.error_text end)
    end
    local got
    b:on("datachannel", function(dc) dc:on("message", function(m) got = m; dc:send("and back") end) end)
    local back
    local dc = a:create_data_channel("relayed")
    dc:on("open", function() dc:send("through a TLS relay") end)
    dc:on("message", function(m) back = m end)
    assert(a:set_local_description(assert(a:create_offer())))
    a:wait_gathering_complete()
    assert(b:set_remote_description(a.local_description))
    assert(b:set_local_description())
    b:wait_gathering_complete()
    assert(a:set_remote_description(b.local_description))
    wait_for(function() return got and back end, "relayed messages")
    assert.equal("through a TLS relay", got)
    assert.equal("and back", back)
    assert.same({}, errors)
    assert.same({ "relay", "relay" }, types)
    assert.not_matches("typ host", a.local_description.sdp)
    local st = a:get_stats()
    local pair = st[st.T01.selectedCandidatePairId]
    local lc = st[pair.localCandidateId]
    assert.equal("relay", lc.candidateType)
    assert.equal("tls", lc.relayProtocol)
    -- each candidate is listed once: the pair names our one relay candidate's entry
    local relays = {}
    for _, s in pairs(st) do
      if s.type == "local-candidate" and s.candidateType == "relay" then
        relays[#relays + 1] = s.id
        assert.equal("tls", s.relayProtocol)
      end
    end
    assert.same({ pair.localCandidateId }, relays)
    a:close(); b:close()
  end, 20000)
end

-- One peer that must not get a relay: one icecandidateerror (701: no STUN answer) with
-- the TLS reason, no candidate, and gathering still ends.
local function refused(url, ca_file, want)
  local e, cands
  run_task(function()
    local a = turns_pc(url, ca_file)
    cands = 0
    a:on("icecandidate", function(c) if c then cands = cands + 1 end end)
    a:on("icecandidateerror", function(ev) e = ev end)
    a:create_data_channel("x")
    assert(a:set_local_description(assert(a:create_offer())))
    a:wait_gathering_complete()
    wait_for(function() return e end, "icecandidateerror")
    a:close()
  end)
  assert.equal(0, cands)
  assert.equal(701, e.error_code)
  assert.equal(url, e.url)
  assert.equal("127.0.0.1", e.address)
  assert.matches(want, e.error_text)
end

describe("TURN over TLS (turns:) with our TURN server", function()
  local pki, srv, tls_port, allocations
  setup(function()
    pki = make_pki()
    allocations = 0
    srv = assert(turn.server {
      listen = "127.0.0.1:0", realm = "luartc", users = { alice = "secret" }, allow_loopback = true,
      relay_ip = "127.0.0.1", tls = { listen = "127.0.0.1:0", cert = pki.cert, key = pki.key },
    })
    srv:on("allocate", function(info) if info.transport == "tls" then allocations = allocations + 1 end end)
    local _
    _, tls_port = srv:tls_address()
  end)
  teardown(function()
    if srv then srv:close() end
    tmp.clean()
  end)

  it("connects two relay-only peers through the TLS relay, data flowing both ways", function()
    relay_through("turns:localhost:" .. tls_port .. "?transport=tcp", pki.ca)
    assert.equal(2, allocations)
  end)

  it("a turns: server given by set_configuration is reached over TLS too", function()
    local before = allocations
    relay_through("turns:localhost:" .. tls_port, pki.ca, true)
    assert.equal(before + 2, allocations)
  end)

  it("set_configuration checks tls_ca_file and reports a CA file it cannot read", function() run_task(function()
    local pc = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" } })
    assert.has_error(function()
      pc:set_configuration { ice_servers = { { urls = "turns:localhost", username = "u", credential = "p", tls_ca_file = 7 } } }
    end, "bad argument #1 to 'set_configuration' (ice_servers[1].tls_ca_file must be a path)")
    local ok, err = pc:set_configuration { ice_servers = { { urls = "turns:localhost:" .. tls_port, username = "u",
                                                             credential = "p", tls_ca_file = "/nonexistent.pem" } } }
    assert.is_nil(ok)
    assert.matches("^OperationError: turns: .*nonexistent", err)
    assert.same({}, pc:get_configuration().ice_servers)
    pc:close()
  end) end)

  it("a certificate from another CA: icecandidateerror, no relay candidate", function()
    local before = allocations
    refused("turns:localhost:" .. tls_port, pki.other_ca, "certificate verify failed")
    assert.equal(before, allocations)
  end)

  it("the system store does not know the test CA", function()
    refused("turns:localhost:" .. tls_port, nil, "certificate verify failed")
  end)

  it("a host name the certificate does not name: icecandidateerror (hostname mismatch)", function()
    -- 127.0.0.1 reaches the same listener, but the certificate names only localhost
    refused("turns:127.0.0.1:" .. tls_port, pki.ca, "certificate verify failed: IP address mismatch")
  end)

  it("sends the URL's host name as SNI, and none for an IP literal", function()
    -- openssl s_server -trace prints each ClientHello's extensions
    local ss = child.start(string.format("%sopenssl s_server -www -trace -accept 127.0.0.1:0 -cert %s -key %s </dev/null",
      child.TOOL, q(pki.cert), q(pki.key)), "ACCEPT 127%.0%.0%.1:(%d+)")
    local function hellos() local _, n = child.slurp(ss.out):gsub("ClientHello", "") return n end
    local function sni_count() local _, n = child.slurp(ss.out):gsub("extension_type=server_name", "") return n end
    run_task(function()
      for _, host in ipairs { "localhost", "127.0.0.1" } do
        local before = hellos()
        local a = turns_pc("turns:" .. host .. ":" .. ss.ready[1], pki.ca)
        a:create_data_channel("x")
        assert(a:set_local_description(assert(a:create_offer())))
        wait_for(function() return hellos() > before end, "ClientHello from " .. host)
        rtc.sleep(0.1)
        a:close()
      end
    end)
    child.stop(ss.pid)
    local out = child.slurp(ss.out)
    assert.equal(1, sni_count(), out)     -- the IP literal sent none
    assert.matches("extension_type=server_name%(0%), length=14%s+0000 %- 00 0c 00 00 09 6c 6f 63%-61 6c 68 6f 73 74 +%.%.%.%.%.localhost", out)
  end)

  it("checks its options", function() run_task(function()
    assert.has_error(function()
      rtc.peer_connection { ice_servers = { { urls = "turns:localhost", username = "u", credential = "p",
                                              tls_ca_file = 7 } } }
    end, "bad argument #1 to 'peer_connection' (ice_servers[1].tls_ca_file must be a path)")
    assert.has_error(function()
      rtc.peer_connection { ice_servers = { { urls = "turns:localhost?transport=udp", username = "u", credential = "p" } } }
    end)
    local pc, err = rtc.peer_connection { ice_servers = { { urls = "turns:localhost:" .. tls_port, username = "u",
                                                            credential = "p", tls_ca_file = "/nonexistent.pem" } } }
    assert.is_nil(pc)
    assert.matches("^OperationError: turns: .*nonexistent", err)
  end) end)
end)

describe("TURN over TLS (turns:) with coturn", function()
  local pki, srv
  setup(function()
    pki = make_pki()
    srv = coturn.start { users = { "alice:secret" }, tls = { cert = pki.cert, key = pki.key } }
  end)
  teardown(function()
    if srv then srv:stop() end
    tmp.clean()
  end)

  it("connects two relay-only peers through coturn's TLS listener", function()
    relay_through("turns:localhost:" .. srv.tls_port .. "?transport=tcp", pki.ca)
    assert.matches("TLS", srv:log(), 1, true)
  end)

  it("coturn's certificate from another CA: icecandidateerror", function()
    refused("turns:localhost:" .. srv.tls_port, pki.other_ca, "certificate verify failed")
  end)
end)
