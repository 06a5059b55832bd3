"""Lua scripts behind :class:`hubasync.redis.RedisRateLimiter`: the rule book of ``_budget.py``.

The budget rules are those of :mod:`hubasync._budget`, ported function by function (each Lua
function names the Python one it mirrors; change both together). ``tests/
test_budget_conformance.py`` drives both with the same events and asserts they agree at every
step. Every script runs atomically and reads the time from Redis ``TIME``, so the workers'
clocks never meet: a worker passes durations ("the reset is 12.5 s after the response
arrived, which was 0.003 s ago") and Hub's own reset instant, never its local instants.
:func:`with_time_from_argv` makes the test variant that reads "now" from the last argument.

Keys (all share one hash tag, so they would land on one Redis Cluster slot):

``KEYS[1]`` state (hash): the fields of ``_budget.State`` (``w1`` .. ``w8`` and ``wi`` are
    the window-sample ring, ``from_hub`` is 0/1), plus ``ticket`` (the FIFO ticket counter)
    and ``ghost_seq``.
``KEYS[2]`` in-flight reservations (sorted set: reservation id -> lease expiry). A lease that
    runs out is a lost response (``_budget.settle`` with ``None``): charged as a ghost, so a
    lease shorter than the window never grants a unit still held.
``KEYS[3]`` waiters (sorted set: waiter id -> ticket; the rank is the place in line).
``KEYS[4]`` waiter expiry (sorted set: waiter id -> instant after which it counts as gone).
``KEYS[5]`` ghosts (sorted set: requests that ended without headers -> when they ended).
``KEYS[6]`` workers (sorted set: worker id -> when it last asked), for the fallback share.

``ARGV[1]`` is always the shortest key lifetime in seconds; the rest is script-specific.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "CANCEL", "PAUSE", "RELEASE", "SNAPSHOT", "with_time_from_argv"]

_NOW_FROM_TIME = (
    "(function() local t = redis.call('TIME') "
    "return tonumber(t[1]) + tonumber(t[2]) / 1000000 end)()"
)
_NOW_FROM_ARGV = "tonumber(ARGV[#ARGV])"

_PRELUDE = r"""
local K_STATE, K_INFLIGHT, K_QUEUE, K_QEXP, K_GHOSTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local K_WORKERS = KEYS[6]
if redis.replicate_commands then pcall(redis.replicate_commands) end
local now = __NOW__
local S = {}
do
  local raw = redis.call('HGETALL', K_STATE)
  for i = 1, #raw, 2 do S[raw[i]] = tonumber(raw[i + 1]) end
end
local fresh = next(S) == nil
local min_ttl = tonumber(ARGV[1])

local DEFAULT_WINDOW = 60.0
local JITTER = 1.0
local WINDOW_SAMPLES = 8
local MAX_RESET_AHEAD = 3600.0
local CLOCK_STEP = 2.0
local GHOST_MARGIN = 5.0
local STALE_SLACK = 1.5

local function num(v) return string.format('%.17g', v) end

-- mirrors _budget.window
local function window()
  local w = nil
  for i = 1, WINDOW_SAMPLES do
    local v = S['w' .. i]
    if v ~= nil and (w == nil or v < w) then w = v end
  end
  return w or DEFAULT_WINDOW
end

-- mirrors _budget._add_sample
local function add_sample(v)
  local i = (S.wi or 0) % WINDOW_SAMPLES + 1
  S['w' .. i] = v
  S.wi = i
end

-- mirrors _budget._ghost_cutoff
local function ghost_cutoff()
  local w = window()
  return (S.reset_at or now) - w - math.min(GHOST_MARGIN, w / 2)
end

local function shift_zset(key, delta)
  local all = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do redis.call('ZADD', key, num(tonumber(all[i + 1]) + delta), all[i]) end
end

-- mirrors _budget._shift (and moves the leases with it)
local function shift(delta)
  for _, k in ipairs({'reset_at', 'hub_local', 'pend_local', 'pause_until', 'tokens_at'}) do
    if S[k] ~= nil then S[k] = S[k] + delta end
  end
  shift_zset(K_GHOSTS, delta)
  shift_zset(K_INFLIGHT, delta)
end

-- mirrors _budget.sync
local function sync()
  if S.last_now ~= nil and now < S.last_now - CLOCK_STEP then shift(now - S.last_now) end
  if S.last_now == nil or now > S.last_now or now < S.last_now - CLOCK_STEP then
    S.last_now = now
  end
  if S.reset_at ~= nil and now >= S.reset_at then
    if S.limit == nil then
      S.remaining, S.reset_at = nil, nil
    else
      local w = window()
      S.reset_at = S.reset_at + (math.floor((now - S.reset_at) / w) + 1) * w
      S.remaining = S.limit
    end
    S.from_hub = 0
  end
  if S.pend_local ~= nil and S.pend_local <= now then S.pend_local, S.pend_raw = nil, nil end
  redis.call('ZREMRANGEBYSCORE', K_GHOSTS, '-inf', '(' .. num(ghost_cutoff() - window()))
end

-- mirrors _budget.available
local function available()
  if S.remaining == nil then return nil end
  local ghosts = redis.call('ZCOUNT', K_GHOSTS, num(ghost_cutoff()), '+inf')
  return math.max(0, S.remaining - ghosts)
end

-- mirrors _budget._ghost
local function ghost()
  if S.remaining ~= nil then
    S.ghost_seq = (S.ghost_seq or 0) + 1
    redis.call('ZADD', K_GHOSTS, num(now), tostring(S.ghost_seq))
  end
end

-- mirrors _budget._take (in_flight: the reservations held; the caller records a grant)
local function take(rank, in_flight, rate, burst)
  sync()
  if S.pause_until ~= nil and now < S.pause_until then return false, S.pause_until, 'pause' end
  local avail = available()
  if avail ~= nil and S.reset_at ~= nil then
    if avail - in_flight >= rank + 1 then return true end
    if S.from_hub == 1 then return false, S.reset_at, 'reset' end
    return false, S.reset_at, 'estimated'
  end
  if S.limit ~= nil then rate = S.limit / window() end
  burst = math.max(1, math.floor(burst))
  local tokens = S.tokens or burst
  if S.tokens_at == nil then
    S.tokens_at = now
  elseif now > S.tokens_at then
    tokens = math.min(burst, tokens + (now - S.tokens_at) * rate)
    S.tokens_at = now
  end
  S.tokens = tokens
  if tokens >= rank + 1 - 1e-9 then
    S.tokens = math.max(0, tokens - 1)
    return true
  end
  local wait = (rank + 1 - tokens) / rate
  if S.tokens_at > now then wait = wait + (S.tokens_at - now) end
  return false, now + wait, 'pacing'
end

-- mirrors _budget.pause
local function pause(until_)
  sync()
  if S.pause_until ~= nil and until_ <= S.pause_until then return end
  S.pause_until = until_
  if until_ > now then S.tokens, S.tokens_at = 1, until_ end
end

-- mirrors _budget.reseed
local function reseed(limit, w, resume_at)
  S.limit = limit
  add_sample(w)
  S.tokens, S.tokens_at = 0, math.max(now, resume_at)
end

-- mirrors _budget._same
local function same(a_local, a_raw, b_local, b_raw)
  if a_raw ~= nil and b_raw ~= nil then return math.abs(a_raw - b_raw) < JITTER end
  return math.abs(a_local - b_local) < JITTER
end

-- mirrors _budget._into_current
local function into_current(remaining, observed)
  if S.remaining == nil or S.reset_at == nil then
    S.remaining, S.reset_at, S.from_hub = remaining, observed + window(), 0
  else
    S.remaining = math.min(S.remaining, remaining)
  end
end

-- mirrors _budget._adopt
local function adopt(reset_at, raw, remaining, fresh_count)
  S.hub_local, S.hub_raw = reset_at, raw
  S.pend_local, S.pend_raw = nil, nil
  if fresh_count or S.remaining == nil then
    S.remaining = remaining
  else
    S.remaining = math.min(S.remaining, remaining)
  end
  S.reset_at, S.from_hub = reset_at, 1
end

-- mirrors _budget._confirmed
local function confirmed(reset_at, raw)
  if S.pend_local ~= nil and same(reset_at, raw, S.pend_local, S.pend_raw) then return true end
  S.pend_local, S.pend_raw = reset_at, raw
  return false
end

-- mirrors _budget._classify
local function classify(reset_at, raw)
  if S.hub_local == nil then return 'newer', nil end
  local diff, sample
  if raw ~= nil and S.hub_raw ~= nil then
    diff = raw - S.hub_raw
    sample = diff
  else
    diff = reset_at - S.hub_local
    sample = math.ceil(diff + 0.5)
  end
  if diff >= JITTER then return 'newer', sample end
  if diff > -JITTER then return 'same', nil end
  return 'stale', nil
end

-- mirrors _budget.merge (limit/remaining nil: not given; reset_at: a Redis-time instant)
local function merge(limit, remaining, reset_at, observed, raw)
  if limit ~= nil and limit >= 1 then
    S.limit = limit
    if S.remaining ~= nil then S.remaining = math.min(S.remaining, limit) end
  end
  if remaining == nil then ghost() return end
  if S.limit ~= nil then remaining = math.min(remaining, S.limit) end
  local seen = math.max(observed, now)
  if reset_at ~= nil and reset_at > observed + MAX_RESET_AHEAD then reset_at = nil end
  if reset_at == nil then into_current(remaining, seen) return end
  local kind, sample = classify(reset_at, raw)
  if kind == 'newer' then
    if reset_at <= now then into_current(remaining, seen) return end
    if reset_at > seen + 2 * window() + 2 and not confirmed(reset_at, raw) then
      into_current(remaining, seen)
      return
    end
    if sample ~= nil then add_sample(sample) end
    adopt(reset_at, raw, remaining, S.from_hub == 1)
    return
  end
  if kind == 'stale' then
    if reset_at <= now + STALE_SLACK then ghost() return end
    into_current(remaining, seen)
    if confirmed(reset_at, raw) then adopt(reset_at, raw, remaining, false) end
    return
  end
  if reset_at <= now and S.from_hub ~= 1 then ghost() return end
  if S.remaining == nil or S.reset_at == nil then
    S.remaining, S.reset_at = remaining, reset_at
  else
    S.remaining = math.min(S.remaining, remaining)
    if S.from_hub ~= 1 then
      S.reset_at = reset_at
    elseif raw ~= nil and raw == S.hub_raw then
      S.reset_at = math.min(S.reset_at, reset_at)
    else
      S.reset_at = math.max(S.reset_at, reset_at)
    end
  end
  S.hub_local = reset_at
  if raw ~= nil then S.hub_raw = raw end
  S.from_hub = 1
end

local function save()
  redis.call('DEL', K_STATE)
  local args = {}
  for k, v in pairs(S) do
    args[#args + 1] = k
    args[#args + 1] = num(v)
  end
  if #args > 0 then redis.call('HSET', K_STATE, unpack(args)) end
  local ttl_ms = math.floor(math.max(min_ttl, 10 * window()) * 1000)
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl_ms) end
end

local function fmt(v)
  if v == nil then return '' end
  return num(v)
end

sync()
-- leases that ran out: lost responses (mirrors _budget.settle(None), charged as ghosts)
do
  local lost = redis.call('ZRANGEBYSCORE', K_INFLIGHT, '-inf', num(now))
  for i = 1, #lost do ghost() end
  if #lost > 0 then redis.call('ZREMRANGEBYSCORE', K_INFLIGHT, '-inf', num(now)) end
end
-- waiters that stopped asking lose their place in line
do
  local gone = redis.call('ZRANGEBYSCORE', K_QEXP, '-inf', num(now))
  for i = 1, #gone do redis.call('ZREM', K_QUEUE, gone[i]) end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', K_QEXP, '-inf', num(now)) end
end
"""

ACQUIRE = (
    _PRELUDE.replace("__NOW__", _NOW_FROM_TIME)
    + r"""
-- mirrors _budget.take (and _budget.reseed on an empty state)
-- ARGV: min_ttl, id, ticket (0 = new waiter), lease_s, rate (per s), burst, poll_s, grace_s,
--       known limit, window, reset_in ('' = none: the worker never saw Hub's headers),
--       worker id
local id = ARGV[2]
local ticket = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local poll = tonumber(ARGV[7])
local grace = tonumber(ARGV[8])
local known_limit, known_window = tonumber(ARGV[9]), tonumber(ARGV[10])
if fresh and known_limit ~= nil and known_window ~= nil then
  reseed(known_limit, known_window, now + (tonumber(ARGV[11]) or 0))
end

local live_after = now - math.max(2 * window(), 60)
redis.call('ZADD', K_WORKERS, num(now), ARGV[12])
redis.call('ZREMRANGEBYSCORE', K_WORKERS, '-inf', '(' .. num(live_after))
local workers = redis.call('ZCARD', K_WORKERS)

if ticket <= 0 then
  ticket = (S.ticket or 0) + 1
  S.ticket = ticket
end
redis.call('ZADD', K_QUEUE, ticket, id)
local rank = redis.call('ZRANK', K_QUEUE, id)
local ok, until_, reason = take(
  rank, redis.call('ZCARD', K_INFLIGHT), tonumber(ARGV[5]), tonumber(ARGV[6]))
local reset_in = nil
if S.reset_at ~= nil then reset_in = S.reset_at - now end
local known = {fmt(S.limit), num(window()), workers, fmt(reset_in)}
if ok then
  redis.call('ZREM', K_QUEUE, id)
  redis.call('ZREM', K_QEXP, id)
  redis.call('ZADD', K_INFLIGHT, num(now + lease), id)
  save()
  return {1, ticket, '0', '', '0', known[1], known[2], known[3], known[4]}
end
local full = until_ - now
local wait = full
if reason ~= 'pause' then wait = math.min(wait, poll) end
if wait < 0.001 then wait = 0.001 end
redis.call('ZADD', K_QEXP, num(now + wait + grace), id)
save()
return {0, ticket, num(wait), reason, num(full), known[1], known[2], known[3], known[4]}
"""
)

RELEASE = (
    _PRELUDE.replace("__NOW__", _NOW_FROM_TIME)
    + r"""
-- mirrors _budget.settle
-- ARGV: min_ttl, id ('' = none held), limit, remaining, reset_in, age, hub_raw, channel
-- limit/remaining/reset_in/hub_raw may be '' (unknown). reset_in: seconds from the
-- response's arrival to the reset; age: seconds since the response arrived (worker's clock);
-- hub_raw: the reset as Hub sent it (Hub's clock, the same for every worker).
if ARGV[2] ~= '' then redis.call('ZREM', K_INFLIGHT, ARGV[2]) end
local observed = now - math.max(0, tonumber(ARGV[6]) or 0)
local reset_in = tonumber(ARGV[5])
local reset_at = nil
if reset_in ~= nil then reset_at = observed + reset_in end
merge(tonumber(ARGV[3]), tonumber(ARGV[4]), reset_at, observed, tonumber(ARGV[7]))
save()
redis.call('PUBLISH', ARGV[8], 'release')
return 1
"""
)

PAUSE = (
    _PRELUDE.replace("__NOW__", _NOW_FROM_TIME)
    + r"""
-- mirrors _budget.pause; ARGV: min_ttl, pause_in (seconds from now), channel
pause(now + tonumber(ARGV[2]))
save()
redis.call('PUBLISH', ARGV[3], 'pause')
return fmt(S.pause_until - now)
"""
)

CANCEL = (
    _PRELUDE.replace("__NOW__", _NOW_FROM_TIME)
    + r"""
-- mirrors _budget.cancel; ARGV: min_ttl, id, burst, channel
local id = ARGV[2]
local burst = tonumber(ARGV[3])
redis.call('ZREM', K_QUEUE, id)
redis.call('ZREM', K_QEXP, id)
local removed = redis.call('ZREM', K_INFLIGHT, id)
if removed == 1 and S.remaining == nil and S.tokens ~= nil then
  S.tokens = math.min(burst, S.tokens + 1)
end
save()
redis.call('PUBLISH', ARGV[4], 'cancel')
return removed
"""
)

SNAPSHOT = (
    _PRELUDE.replace("__NOW__", _NOW_FROM_TIME)
    + r"""
-- a read-only view: _budget.available, and the bucket refill of _budget._take not applied
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


def with_time_from_argv(script: str) -> str:
    """The test variant of a script: "now" is its last argument instead of Redis ``TIME``."""
    return script.replace(_NOW_FROM_TIME, _NOW_FROM_ARGV)
