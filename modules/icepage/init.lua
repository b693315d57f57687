-- icepage: the ICE/TURN tester as a page (like the trickle-ICE sample) for any
-- http.server: the browser gathers against the servers the page is given and shows
-- each candidate and error as it comes, and one result a server.
--
--   local icepage = require "icepage"
--   icepage.mount(server, "/tools/ice", {
--     servers = { { urls = "turn:turn.example.org:3478", username = "u", credential = "p" },
--                 { urls = "turn:turn.example.org:3478?transport=tcp" } },
--     turn_secret = "...",   -- TURN REST: fills username/credential of TURN servers without them
--     token = "...",         -- optional: the page and its config want ?token=
--   })
--
-- GET /tools/ice          the page (its script is in the page; nothing else is loaded)
-- GET /tools/ice/config   {"servers": [...]} with fresh TURN REST credentials
-- See docs/tools.md.
local rtc = require "rtc"
local turn = require "turn"
local toolpage = require "toolpage"

local M = {}

--- icepage.mount(server, path, {servers=, turn_secret=, rest_user=, ttl=, token=})
function M.mount(server, path, opts)
  toolpage.check_mount("icepage.mount", server, path, "/tools/ice")
  opts = opts or {}
  if type(opts.servers) ~= "table" then error("bad argument #3 to 'icepage.mount' (servers list expected)", 2) end
  for i, s in ipairs(opts.servers) do
    if type(s) ~= "table" or (type(s.urls) ~= "string" and type(s.urls) ~= "table") then
      error("bad argument #3 to 'icepage.mount' (servers[" .. i .. "].urls expected)", 2)
    end
  end
  toolpage.check_token("icepage.mount", opts.token)
  local token = opts.token
  toolpage.serve(server, path, toolpage.read(debug.getinfo(1, "S").source, "page.html", path), token)
  server:route("GET", path .. "/config", function(req)
    if not toolpage.authorized(req, token) then return toolpage.denied() end
    local list = {}
    for _, s in ipairs(opts.servers) do
      local e = { urls = s.urls, username = s.username, credential = s.credential }
      local first = type(s.urls) == "table" and s.urls[1] or s.urls
      if opts.turn_secret and not e.username and tostring(first):match("^turns?:") then
        e.username, e.credential = turn.rest_credentials(opts.turn_secret, opts.rest_user or "icepage", opts.ttl or 3600)
      end
      list[#list + 1] = e
    end
    return 200, rtc.json.encode { servers = rtc.json.array(list) },
           { ["Content-Type"] = "application/json", ["Cache-Control"] = "no-store" }
  end)
  return { close = function() end }
end

return M
