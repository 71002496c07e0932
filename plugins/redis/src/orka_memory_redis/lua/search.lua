-- Full-text search over stored memories with an inverted index: one sorted set per word (TERM .. word) holding
-- the ids of the memories containing it, scored by the word's frequency in each. Scored with BM25 (k1 = 1.2,
-- b = 0.75; idf = ln(1 + (N - df + 0.5) / (df + 0.5)), always positive), every filter applied to each candidate
-- before ranking, so the `limit` results are all matches. Cost: the postings of the query's words plus one HMGET
-- per candidate, in this one call; nothing else is read.
-- Arguments from ARG0: limit, now (epoch ms), filters (JSON: {"equal": {hash field: value}, "min_importance": x}),
-- then the query's distinct words.
-- Returns {header, body, score, ...}, best first (ties: newest first); scores are strings (Lua numbers would be
-- truncated to integers on the way out).
local K1, B = 1.2, 0.75
local limit, now = tonumber(ARGV[ARG0]), tonumber(ARGV[ARG0 + 1])
local filters = cjson.decode(ARGV[ARG0 + 2])
local documents = redis.call('ZCARD', MEMORIES)
if documents == 0 then
  return {}
end
local average_length = math.max(tonumber(redis.call('HGET', COUNTERS, 'memory_words') or 0) / documents, 1)

-- word weights per candidate: {idf, frequency, idf, frequency, ...}
local matches = {}
for i = ARG0 + 3, #ARGV do
  local postings = redis.call('ZRANGE', TERM .. ARGV[i], 0, -1, 'WITHSCORES')
  local frequency_of_word = #postings / 2
  local idf = math.log(1 + (documents - frequency_of_word + 0.5) / (frequency_of_word + 0.5))
  for p = 1, #postings, 2 do
    local weights = matches[postings[p]]
    if not weights then
      weights = {}
      matches[postings[p]] = weights
    end
    weights[#weights + 1] = idf
    weights[#weights + 1] = tonumber(postings[p + 1])
  end
end

local equal_fields, equal_values = {}, {}
for field, value in pairs(filters.equal) do
  equal_fields[#equal_fields + 1] = field
  equal_values[#equal_values + 1] = value
end
local min_importance = filters.min_importance

local hits = {}
for id, weights in pairs(matches) do
  local key = MEMORY .. id
  local memory = redis.call('HMGET', key, 'expires_at', 'importance', 'words', 'created_at', unpack(equal_fields))
  local ok = memory[4] and alive(memory[1], now)
  if ok and min_importance and min_importance ~= cjson.null then
    ok = tonumber(memory[2]) >= min_importance
  end
  for f = 1, #equal_fields do
    ok = ok and memory[4 + f] == equal_values[f]
  end
  if ok then
    local length_ratio = tonumber(memory[3]) / average_length
    local score = 0
    for w = 1, #weights, 2 do
      local frequency = weights[w + 1]
      score = score + weights[w] * frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length_ratio))
    end
    hits[#hits + 1] = {score, tonumber(memory[4]), id}
  end
end
table.sort(hits, function(a, b)
  if a[1] ~= b[1] then
    return a[1] > b[1]
  end
  if a[2] ~= b[2] then
    return a[2] > b[2]
  end
  return a[3] > b[3]
end)

local out = {}
for i = 1, math.min(limit, #hits) do
  local memory = redis.call('HMGET', MEMORY .. hits[i][3], 'header', 'body')
  out[#out + 1] = memory[1]
  out[#out + 1] = memory[2]
  out[#out + 1] = string.format('%.17g', hits[i][1])
end
return out
