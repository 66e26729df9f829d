-- wrk: PATCH (RFC 7386 merge) one document, each request setting a different value.
local n = 0
request = function()
  n = n + 1
  return wrk.format("PATCH", "/bench/doc1", {["Content-Type"] = "application/merge-patch+json"},
                    '{"counter":' .. n .. ',"seen":true}')
end
