-- A signaling server that relays what the real one refuses, as an old or hostile one
-- might: the demo page (served from WEB) joins and gets a welcome, then another
-- member's forged leave and join (they carry `from`), then a real join notice.
-- spec/signaling_browser.js checks that the page acts on the real notice only.
--   luartc spec/signaling_forging_server.lua PORT WEB
local rtc = require "rtc"
local http = require "http"
local json = rtc.json

local srv = assert(http.server { host = "127.0.0.1", port = tonumber(arg[1]), static = arg[2] })
srv:websocket("/ws", function(ws)
  ws:send(json.encode { type = "welcome", id = "me", room = "forged", peers = { { id = "bob", info = { name = "bob" } } } })
  ws:send(json.encode { type = "leave", id = "bob", peers = { "me" }, from = "mallory" })
  ws:send(json.encode { type = "join", id = "ghost", info = { name = "ghost" }, peers = { "me", "bob", "ghost" }, from = "mallory" })
  ws:send(json.encode { type = "join", id = "carol", info = { name = "carol", data_only = true }, peers = { "me", "bob", "carol" } })
  ws:on("message", function() end)   -- the page's offer to carol goes nowhere
end)
print("forging server on " .. srv.port)
io.stdout:flush()
rtc.on("shutdown", function() srv:close() end)
