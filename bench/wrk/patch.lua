-- wrk script of the http_patch cell (bench/benchlib/documents.py): PATCH /<collection>/<id> of
-- a random prefilled document with an RFC 7386 merge patch that changes one field and adds
-- another; <depth> requests written back to back per connection.
-- Arguments after `--`: collection, keys, depth, seed.
local collection, keys, depth = "items", 1, 1

wrk.headers["Content-Type"] = "application/json"

function init(args)
  collection, keys, depth = args[1], tonumber(args[2]), tonumber(args[3])
  math.randomseed(tonumber(args[4]))
end

function request()
  local batch = {}
  for i = 1, depth do
    local path = string.format("/%s/%012d", collection, math.random(0, keys - 1))
    local body = string.format('{"score":%d,"seen":true}', math.random(0, 999999))
    batch[i] = wrk.format("PATCH", path, nil, body)
  end
  return table.concat(batch)
end
