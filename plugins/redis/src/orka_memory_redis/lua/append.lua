-- Store one writer batch atomically: events appended to the stream of their memory type and lifetime, stored
-- memories as hashes with a native TTL plus their index entries, blobs, the run registry and the counters.
-- Idempotent: a record whose id is stored (or a blob whose hash is) is skipped, so a replayed batch changes
-- nothing; a blob sent again only takes the later expiry ('' = never wins).
-- Arguments from ARG0: counts (events, memories, blobs, runs), then
--   per event:  id, stream suffix, expires_at, raw_size, header, body
--   per memory: id, created_at, expires_at, index document (JSON), n, then n hash fields and values
--   per blob:   hash, codec, raw_size, expires_at, body
--   per run:    run id, latest expiry of its records in this batch ('+inf': never)
-- Returns {events added, memories added, blobs added}.
local n_events, n_memories, n_blobs, n_runs = tonumber(ARGV[ARG0]), tonumber(ARGV[ARG0 + 1]),
  tonumber(ARGV[ARG0 + 2]), tonumber(ARGV[ARG0 + 3])
local pos = ARG0 + 4
local added_events, added_memories, added_blobs = 0, 0, 0
local event_raw, event_stored, memory_raw, memory_stored, memory_words, blob_raw, blob_stored = 0, 0, 0, 0, 0, 0, 0
local known_streams = {}

-- Which events are stored already: one HMGET for the batch (PAGE ids at a time), one HSET of the new locations.
local stored, ids = {}, {}
for i = 0, n_events - 1 do
  ids[#ids + 1] = ARGV[pos + 6 * i]
end
for first = 1, #ids, PAGE do
  local found = redis.call('HMGET', IDS, unpack(ids, first, math.min(first + PAGE - 1, #ids)))
  for offset, location in ipairs(found) do
    stored[ids[first + offset - 1]] = location
  end
end
local locations = {}
for _ = 1, n_events do
  local id, suffix, expires_at, raw_size, header, body =
    ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4], ARGV[pos + 5]
  pos = pos + 6
  if not stored[id] then
    local entry = redis.call('XADD', STREAM .. suffix, '*', 'i', id, 'x', expires_at, 'z', raw_size, 'h', header,
      'b', body)
    stored[id] = true -- a batch holding an id twice stores it once
    locations[#locations + 1] = id
    locations[#locations + 1] = suffix .. ' ' .. entry
    if not known_streams[suffix] then
      redis.call('SADD', STREAMS, suffix)
      known_streams[suffix] = true
    end
    added_events = added_events + 1
    event_raw = event_raw + tonumber(raw_size)
    event_stored = event_stored + #body
  end
end
in_pages('HSET', IDS, locations)

for _ = 1, n_memories do
  local id, created_at, expires_at, document, n = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3],
    tonumber(ARGV[pos + 4])
  local fields = {unpack(ARGV, pos + 5, pos + 4 + 2 * n)}
  pos = pos + 5 + 2 * n
  if redis.call('HEXISTS', MEMORY_INDEX, id) == 0 then
    local index = cjson.decode(document)
    local key = MEMORY .. id
    redis.call('HSET', key, unpack(fields))
    if expires_at ~= '' then
      redis.call('PEXPIREAT', key, expires_at)
    end
    redis.call('HSET', MEMORY_INDEX, id, document)
    redis.call('ZADD', MEMORIES, created_at, id)
    redis.call('ZADD', EXPIRY .. index.memory_type, expires_at == '' and '+inf' or expires_at, id)
    for word, frequency in pairs(index.words) do
      redis.call('ZADD', TERM .. word, frequency, id)
    end
    added_memories = added_memories + 1
    memory_raw = memory_raw + index.raw_size
    memory_stored = memory_stored + index.stored_size
    memory_words = memory_words + index.length
  end
end

for _ = 1, n_blobs do
  local hash, codec, raw_size, expires_at, body = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3],
    ARGV[pos + 4]
  pos = pos + 5
  local key = BLOB .. hash
  local score = expires_at == '' and '+inf' or expires_at
  local current = redis.call('HGET', key, 'x')
  if not current then
    redis.call('HSET', key, 'c', codec, 'z', raw_size, 'x', expires_at, 'b', body)
    redis.call('ZADD', BLOBS, score, hash)
    added_blobs = added_blobs + 1
    blob_raw = blob_raw + tonumber(raw_size)
    blob_stored = blob_stored + #body
  elseif current ~= '' and (expires_at == '' or tonumber(expires_at) > tonumber(current)) then
    redis.call('HSET', key, 'x', expires_at)
    redis.call('ZADD', BLOBS, score, hash)
  end
end

for _ = 1, n_runs do
  redis.call('ZADD', RUNS, 'GT', ARGV[pos + 1], ARGV[pos])
  pos = pos + 2
end

for name, amount in pairs({event_raw = event_raw, event_stored = event_stored, memory_raw = memory_raw,
    memory_stored = memory_stored, memory_words = memory_words, blob_raw = blob_raw, blob_stored = blob_stored}) do
  add_to_counter(name, amount)
end
return {added_events, added_memories, added_blobs}
