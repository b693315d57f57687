-- The ICE/TURN tester page (modules/icepage) for spec/ice_page_spec.lua: arg[1] is
-- coturn's port (user alice:secret), arg[2] ours (REST secret "s3cret"). Prints
-- "READY <port>" on stdout; stops on SIGTERM.
local rtc = require "rtc"
local http = require "http"
local icepage = require "icepage"
local coturn, ours = tonumber(arg[1]), tonumber(arg[2])
local srv = assert(http.server { port = 0 })
icepage.mount(srv, "/tools/ice", { turn_secret = "s3cret", token = "tk", servers = {
  { urls = "turn:127.0.0.1:" .. coturn, username = "alice", credential = "secret" },
  { urls = "turn:127.0.0.1:" .. coturn, username = "alice", credential = "wrong" },
  { urls = "turn:127.0.0.1:" .. ours .. "?transport=udp" },
  { urls = "turn:127.0.0.1:" .. ours .. "?transport=tcp" },
  { urls = "turn:127.0.0.1:" .. ours, username = "nobody", credential = "x" },
} })
rtc.stdout:write("READY ", srv.port, "\n")
rtc.on("shutdown", function() srv:close() end)
