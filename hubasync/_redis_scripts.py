"""Lua scripts behind :class:`hubasync.redis.RedisRateLimiter`.

The budget rules are those of the in-process ``AdaptiveTokenBucket`` (``_ratelimit.py``),
moved into Redis so every worker shares them. Every script runs atomically and reads the
time from Redis ``TIME``, so the workers' clocks never meet: a worker passes durations ("the
reset is 12.5 s after the response arrived, which was 0.003 s ago") and Hub's own reset
instant (the same for every worker), never its local instants.

Keys (all share one hash tag, so they would land on one Redis Cluster slot):

``KEYS[1]`` state (hash)
    ``limit``; ``remaining`` and ``reset_at`` (absent while the start-up bucket rules);
    ``from_hub`` (1: the current window is the one Hub last named, 0: extrapolated);
    ``hub_local`` / ``hub_raw`` (the last reset Hub named, in Redis time / on Hub's clock);
    ``w1`` .. ``w8`` and ``wi`` (window-length samples, the window is their minimum, 60 s
    before any); ``pause_until`` (after a 429); ``tokens`` / ``tokens_at`` (the start-up
    bucket); ``ticket`` (the FIFO ticket counter); ``ghost_seq``.
``KEYS[2]`` in-flight reservations (sorted set: reservation id -> lease expiry).
``KEYS[3]`` waiters (sorted set: waiter id -> ticket; the rank is the place in line).
``KEYS[4]`` waiter expiry (sorted set: waiter id -> instant after which it counts as gone).
``KEYS[5]`` ghosts (sorted set: requests that ended without headers -> when they ended).

``ARGV[1]`` is always the shortest key lifetime in seconds; the rest is script-specific.
Times in the state are Redis ``TIME`` seconds (floats).
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "CANCEL", "PAUSE", "RELEASE", "SNAPSHOT"]

_PRELUDE = r"""
local K_STATE, K_INFLIGHT, K_QUEUE, K_QEXP, K_GHOSTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.replicate_commands then pcall(redis.replicate_commands) end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local S = {}
do
  local raw = redis.call('HGETALL', K_STATE)
  for i = 1, #raw, 2 do S[raw[i]] = tonumber(raw[i + 1]) end
end
local min_ttl = tonumber(ARGV[1])

local DEFAULT_WINDOW = 60.0
local JITTER = 1.0         -- Hub's reset instants closer than this: the same window
local LOCAL_JITTER = 1.5   -- the same, for resets known only as local (Redis) instants
local GHOST_MARGIN = 5.0
local WINDOW_SAMPLES = 8

local function window()
  local w = nil
  for i = 1, WINDOW_SAMPLES do
    local v = S['w' .. i]
    if v ~= nil and (w == nil or v < w) then w = v end
  end
  return w or DEFAULT_WINDOW
end

local function add_window_sample(v)
  local i = (S.wi or 0) % WINDOW_SAMPLES + 1
  S['w' .. i] = v
  S.wi = i
end

-- leases that ran out: a crashed worker's reservations return to the budget
redis.call('ZREMRANGEBYSCORE', K_INFLIGHT, '-inf', now)
-- waiters that stopped asking lose their place in line
do
  local gone = redis.call('ZRANGEBYSCORE', K_QEXP, '-inf', now)
  for i = 1, #gone do redis.call('ZREM', K_QUEUE, gone[i]) end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', K_QEXP, '-inf', now) end
end
-- the window reset passed: refill to the limit, the next reset is one window later
if S.reset_at ~= nil and now >= S.reset_at then
  if S.limit == nil then
    S.remaining, S.reset_at, S.from_hub = nil, nil, 0
  else
    local w = window()
    S.reset_at = S.reset_at + (math.floor((now - S.reset_at) / w) + 1) * w
    S.remaining = S.limit
    S.from_hub = 0
  end
end

-- requests that ended without headers count against the window they may have landed in
local function ghost_cutoff()
  return (S.reset_at or now) - window() - GHOST_MARGIN
end
redis.call('ZREMRANGEBYSCORE', K_GHOSTS, '-inf', '(' .. (ghost_cutoff() - window()))

local function available()
  if S.remaining == nil then return nil end
  local ghosts = redis.call('ZCOUNT', K_GHOSTS, ghost_cutoff(), '+inf')
  return math.max(0, S.remaining - ghosts)
end

local function save()
  redis.call('DEL', K_STATE)
  local args = {}
  for k, v in pairs(S) do
    args[#args + 1] = k
    args[#args + 1] = string.format('%.17g', v)
  end
  if #args > 0 then redis.call('HSET', K_STATE, unpack(args)) end
  local ttl_ms = math.floor(math.max(min_ttl, 10 * window()) * 1000)
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl_ms) end
end

local function fmt(v)
  if v == nil then return '' end
  return string.format('%.6f', v)
end
"""

ACQUIRE = (
    _PRELUDE
    + r"""
-- ARGV: min_ttl, id, ticket (0 = new waiter), lease_s, rate (per s), burst, poll_s, grace_s
local id = ARGV[2]
local ticket = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local rate = tonumber(ARGV[5])
local burst = tonumber(ARGV[6])
local poll = tonumber(ARGV[7])
local grace = tonumber(ARGV[8])

if ticket <= 0 then
  ticket = (S.ticket or 0) + 1
  S.ticket = ticket
end
redis.call('ZADD', K_QUEUE, ticket, id)
local rank = redis.call('ZRANK', K_QUEUE, id)

local granted = false
local exact = false
local wait = poll
local kind = 'p'  -- why: 'a' a pause or reset Hub announced, 'e' an estimated reset, 'p' pacing
local avail = available()
if S.pause_until ~= nil and now < S.pause_until then
  wait = S.pause_until - now
  exact = true
  kind = 'a'
elseif avail ~= nil and S.reset_at ~= nil then
  -- Hub's view: what it said remains, less the requests in flight
  if avail - redis.call('ZCARD', K_INFLIGHT) >= rank + 1 then
    granted = true
  else
    wait = S.reset_at - now
    if S.from_hub == 1 then kind = 'a' else kind = 'e' end
    local first = redis.call('ZRANGE', K_INFLIGHT, 0, 0, 'WITHSCORES')
    if #first > 0 then wait = math.min(wait, tonumber(first[2]) - now) end
  end
else
  -- no usable headers yet: a token bucket with a small burst
  if S.limit ~= nil then rate = S.limit / window() end
  local tokens = S.tokens or burst
  if S.tokens_at ~= nil and now > S.tokens_at then
    tokens = math.min(burst, tokens + (now - S.tokens_at) * rate)
    S.tokens_at = now
  elseif S.tokens_at == nil then
    S.tokens_at = now
  end
  S.tokens = tokens
  if tokens >= rank + 1 - 1e-9 then
    granted = true
    S.tokens = math.max(0, tokens - 1)
  else
    wait = (rank + 1 - tokens) / rate
    if S.tokens_at > now then wait = wait + (S.tokens_at - now) end
  end
end

if granted then
  redis.call('ZREM', K_QUEUE, id)
  redis.call('ZREM', K_QEXP, id)
  redis.call('ZADD', K_INFLIGHT, now + lease, id)
  save()
  return {1, ticket, '0'}
end
local full = wait
if not exact then wait = math.min(wait, poll) end
if wait < 0.001 then wait = 0.001 end
redis.call('ZADD', K_QEXP, now + wait + grace, id)
save()
return {0, ticket, fmt(wait), kind, fmt(full)}
"""
)

RELEASE = (
    _PRELUDE
    + r"""
-- ARGV: min_ttl, id ('' = none held), limit, remaining, reset_in, age, hub_raw, channel
-- limit/remaining/reset_in/hub_raw may be '' (unknown or unusable). reset_in: seconds from
-- the response's arrival to the reset; age: seconds since the response arrived (worker's
-- clock); hub_raw: the reset as Hub sent it (Hub's clock, the same for every worker).
local id = ARGV[2]
local limit = tonumber(ARGV[3])
local remaining = tonumber(ARGV[4])
local reset_in = tonumber(ARGV[5])
local age = tonumber(ARGV[6]) or 0
local hub_raw = tonumber(ARGV[7])
local channel = ARGV[8]

if id ~= '' then redis.call('ZREM', K_INFLIGHT, id) end

local function ghost()
  S.ghost_seq = (S.ghost_seq or 0) + 1
  redis.call('ZADD', K_GHOSTS, now, tostring(S.ghost_seq))
end

local function merge_into_current(count)
  if S.remaining == nil or S.reset_at == nil then
    -- the window ends at most one window after the response: refill no earlier
    S.remaining = count
    S.reset_at = now + window()
    S.from_hub = 0
  else
    S.remaining = math.min(S.remaining, count)
  end
end

local function merge()
  if limit ~= nil and limit >= 1 then
    S.limit = limit
    if S.remaining ~= nil then S.remaining = math.min(S.remaining, limit) end
  end
  if remaining == nil then
    ghost()  -- no count: assume Hub counted it
    return
  end
  if S.limit ~= nil then remaining = math.min(remaining, S.limit) end
  if reset_in == nil then
    merge_into_current(remaining)  -- a count without a usable reset: the current window's
    return
  end
  local reset_at = now - math.max(0, age) + reset_in
  -- which window does the response speak of?
  local kind, sample = 'newer', nil
  if S.hub_local ~= nil then
    local diff, tolerance
    if hub_raw ~= nil and S.hub_raw ~= nil then
      diff, tolerance = hub_raw - S.hub_raw, JITTER
      sample = diff
    else
      diff, tolerance = reset_at - S.hub_local, LOCAL_JITTER
      sample = math.ceil(diff + LOCAL_JITTER - JITTER)
    end
    if diff <= -tolerance then kind = 'stale'
    elseif diff < tolerance then kind = 'same'
    end
  end
  if kind == 'stale' then return end  -- an older window's response: Hub counted it there
  if kind == 'same' then
    if reset_at <= now and S.from_hub ~= 1 then return end  -- rolled past it already
    local one_instant = hub_raw ~= nil and S.hub_raw ~= nil and math.abs(hub_raw - S.hub_raw) < 1e-6
    S.hub_local = math.max(reset_at, S.hub_local or reset_at)
    if hub_raw ~= nil then S.hub_raw = hub_raw end
    if S.remaining == nil or S.reset_at == nil then
      S.remaining, S.reset_at = remaining, S.hub_local
    else
      -- responses overtake each other: within a window the lowest count is the truth
      S.remaining = math.min(S.remaining, remaining)
      if S.from_hub ~= 1 then
        S.reset_at = reset_at
      elseif one_instant then
        -- one Hub instant seen through several workers' skew estimates: each conversion is
        -- the latest the instant can be, so the earliest of them is still never early
        S.reset_at = math.min(S.reset_at, reset_at)
      else
        S.reset_at = math.max(S.reset_at, reset_at)  -- keep the latest, as in-process
      end
    end
    S.from_hub = 1
    return
  end
  if reset_at <= now then
    merge_into_current(remaining)  -- a window already over by Redis time: only the count
    return
  end
  if sample ~= nil then add_window_sample(sample) end
  S.hub_local, S.hub_raw = reset_at, hub_raw
  if S.from_hub == 1 or S.remaining == nil then
    S.remaining = remaining  -- Hub moved on from the window it last named: a fresh count
  else
    S.remaining = math.min(S.remaining, remaining)  -- we extrapolated: the lowest is safe
  end
  S.reset_at = reset_at
  S.from_hub = 1
end

merge()
save()
redis.call('PUBLISH', channel, 'release')
return 1
"""
)

PAUSE = (
    _PRELUDE
    + r"""
-- ARGV: min_ttl, pause_in (seconds from now), channel
local until_ = now + tonumber(ARGV[2])
if S.pause_until == nil or until_ > S.pause_until then
  S.pause_until = until_
  if until_ > now then
    -- the bucket restarts after the pause with one token, not with what it saved up
    S.tokens = 1
    S.tokens_at = until_
  end
end
save()
redis.call('PUBLISH', ARGV[3], 'pause')
return fmt(S.pause_until - now)
"""
)

CANCEL = (
    _PRELUDE
    + r"""
-- ARGV: min_ttl, id, burst, channel
local id = ARGV[2]
local burst = tonumber(ARGV[3])
redis.call('ZREM', K_QUEUE, id)
redis.call('ZREM', K_QEXP, id)
local removed = redis.call('ZREM', K_INFLIGHT, id)
if removed == 1 and S.remaining == nil and S.tokens ~= nil then
  -- an unused reservation taken from the bucket: give its token back
  S.tokens = math.min(burst, S.tokens + 1)
end
save()
redis.call('PUBLISH', ARGV[4], 'cancel')
return removed
"""
)

SNAPSHOT = (
    _PRELUDE
    + r"""
-- ARGV: min_ttl, rate, burst
local rate = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tokens = nil
if S.remaining == nil then
  if S.limit ~= nil then rate = S.limit / window() end
  tokens = S.tokens or burst
  if S.tokens_at ~= nil and now > S.tokens_at then
    tokens = math.min(burst, tokens + (now - S.tokens_at) * rate)
  end
end
local reset_in = nil
if S.reset_at ~= nil then reset_in = S.reset_at - now end
local pause_in = 0
if S.pause_until ~= nil then pause_in = math.max(0, S.pause_until - now) end
local avail = available()
save()
return {
  fmt(S.limit), fmt(avail), fmt(reset_in), fmt(window()),
  redis.call('ZCARD', K_INFLIGHT), redis.call('ZCARD', K_QUEUE), fmt(pause_in), fmt(tokens),
}
"""
)
