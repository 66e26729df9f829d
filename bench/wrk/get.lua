-- wrk script of the http_get cell (bench/benchlib/documents.py): GET /<collection>/<id> of a
-- random prefilled document, <depth> requests written back to back per connection (HTTP/1.1
-- pipelining; wrk waits for all their answers before the next batch).
-- Arguments after `--`: collection, keys, depth, seed. Ids are 12 digits in [0, keys), as
-- redis-benchmark's __rand_int__ writes them, so the RESP cell json_get_small reads the same
-- documents.
local collection, keys, depth = "items", 1, 1

function init(args)
  collection, keys, depth = args[1], tonumber(args[2]), tonumber(args[3])
  math.randomseed(tonumber(args[4]))
end

function request()
  local batch = {}
  for i = 1, depth do
    local path = string.format("/%s/%012d", collection, math.random(0, keys - 1))
    batch[i] = wrk.format("GET", path)
  end
  return table.concat(batch)
end
