-- Prepended to every script that runs on the log's global slot (see keys.py).
-- keys.py passes the fixed keys as KEYS and the prefixes of the derived keys as ARGV[1..5], so key names are
-- built in one place; a script's own arguments start at ARGV[ARG0]. Every key used here carries the hash tag of
-- KEYS[1], so a script touches one slot and runs on one node of a cluster.
local IDS, STREAMS, COUNTERS, MEMORIES, MEMORY_INDEX, RUNS, BLOBS = unpack(KEYS, 1, 7)
local STREAM, MEMORY, TERM, EXPIRY, BLOB = unpack(ARGV, 1, 5)
local ARG0 = 6
local PAGE = 1000 -- entries read per XRANGE, ids per HDEL

-- A stored expiry is epoch milliseconds, or '' for never.
local function alive(expires_at, now)
  return expires_at == '' or tonumber(expires_at) > now
end

local function ms(number)
  return string.format('%.0f', number)
end

-- Add `amount` to a counter. Zero is skipped: Lua prints minus zero as "-0", which HINCRBY refuses.
local function add_to_counter(counter, amount)
  if amount ~= 0 then
    redis.call('HINCRBY', COUNTERS, counter, amount)
  end
end

-- Where the values sit in an event entry's {field, value, ...} list (XRANGE's reply): append.lua writes the
-- fields i, x, z, h, b in this order, and reading them by position spares a table per entry.
local ID, EXPIRES, RAW_SIZE, HEADER, BODY = 2, 4, 6, 8, 10

-- A stream's suffix is '<memory type>:<lifetime>'; the lifetime is milliseconds or 'keep'.
local function stream_lifetime(suffix)
  return suffix:match(':([^:]+)$')
end

-- Call `command` on `key` with `values`, PAGE at a time (Lua's unpack has a stack limit).
local function in_pages(command, key, values)
  for first = 1, #values, PAGE do
    redis.call(command, key, unpack(values, first, math.min(first + PAGE - 1, #values)))
  end
end

-- The expired prefix of an event stream: entries written more than `lifetime` ms ago whose own expiry has
-- passed, oldest first, stopping at the first live entry. Calls visit(fields) for each, at most
-- `limit` of them (nil: no limit). Returns how many, the last one's id, and whether the prefix was exhausted.
-- Touches expired entries only: a stream's live entries start where this stops.
local function expired_prefix(suffix, now, limit, visit)
  local lifetime = stream_lifetime(suffix)
  if lifetime == 'keep' then
    return 0, nil, true
  end
  local bound = '(' .. ms(now - tonumber(lifetime) + 1) .. '-0'
  local start, count, last = '-', 0, nil
  while true do
    local page = PAGE
    if limit then
      page = math.min(PAGE, limit - count)
      if page <= 0 then
        return count, last, false
      end
    end
    local entries = redis.call('XRANGE', STREAM .. suffix, start, bound, 'COUNT', page)
    for _, entry in ipairs(entries) do
      local fields = entry[2]
      if alive(fields[EXPIRES], now) then
        return count, last, true
      end
      count = count + 1
      last = entry[1]
      if visit then
        visit(fields)
      end
    end
    if #entries < page then
      return count, last, true
    end
    start = '(' .. last
  end
end

-- Remove a stored memory: its hash, its postings, its index entries and its share of the counters. Returns
-- its index document (JSON), or false when the id is not a stored memory.
local function remove_memory(id)
  local document = redis.call('HGET', MEMORY_INDEX, id)
  if not document then
    return false
  end
  local index = cjson.decode(document)
  for word in pairs(index.words) do
    redis.call('ZREM', TERM .. word, id)
  end
  redis.call('HDEL', MEMORY_INDEX, id)
  redis.call('ZREM', MEMORIES, id)
  redis.call('ZREM', EXPIRY .. index.memory_type, id)
  redis.call('UNLINK', MEMORY .. id)
  add_to_counter('memory_raw', -index.raw_size)
  add_to_counter('memory_stored', -index.stored_size)
  add_to_counter('memory_words', -index.length)
  return document
end
