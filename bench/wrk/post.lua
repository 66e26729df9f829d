-- wrk script of the http_post cell (bench/benchlib/documents.py): POST /<collection> of a new
-- small document without an "id" field, so the server picks the id and every request creates
-- a document; <depth> requests written back to back per connection.
-- Arguments after `--`: collection, keys (unused), depth, seed.
local collection, depth, n = "posts", 1, 0

wrk.headers["Content-Type"] = "application/json"

function init(args)
  collection, depth = args[1], tonumber(args[3])
  math.randomseed(tonumber(args[4]))
end

function request()
  local batch = {}
  for i = 1, depth do
    n = n + 1
    -- The shape and size (~120 bytes) of the documents the GET and PATCH cells read.
    local body = string.format(
      '{"name":"user %d","email":"user%d@example.com","age":%d,"active":true,' ..
      '"tags":["a","b"],"score":%d.5}', n, n, 18 + n % 60, math.random(0, 999))
    batch[i] = wrk.format("POST", "/" .. collection, nil, body)
  end
  return table.concat(batch)
end
