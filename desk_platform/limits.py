"""Request limits in front of the API: body size, JSON nesting depth, and rate limits.

A plain ASGI middleware, so an oversized body is refused while it streams in (before anything
parses it) and a request that is over its rate never reaches a database connection.

Rate limits are token buckets: one per bearer token and one per client address (with a much
smaller one for ``/v1/enroll``, which guesses codes would hit). By default they live in this
process, so with N API processes behind a load balancer the effective limit is up to N times the
configured one. With ``store="redis://..."`` (``serve --rate-store``) the buckets live in Redis
(one atomic Lua script per check, Redis' own clock), and every process shares one limit. If
Redis cannot be reached, the check falls back to the local buckets (logged): a rate-limit store
outage must not take the platform down.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from sync.protocol import API_PREFIX, MAX_BODY_BYTES, MAX_JSON_DEPTH

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """Deepest nesting of objects and arrays, brackets inside strings not counted. C-speed
    passes (regex, translate, accumulate): a 2 MiB batch costs a few milliseconds."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(itertools.accumulate(_DEPTH[b] for b in brackets))


@dataclass
class Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets: ``rate`` per second, ``burst`` at most; ``rate <= 0`` switches it off."""

    def __init__(self, rate: float, burst: float, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def allow(self, key: str, cost: float = 1.0) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        b = self._buckets.get(key)
        if b is None:
            b = Bucket(self.burst, now)
            self._buckets[key] = b
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)  # forget the least recently seen
        else:
            self._buckets.move_to_end(key)
            b.tokens = min(self.burst, b.tokens + (now - b.stamp) * self.rate)
            b.stamp = now
        if b.tokens < cost:
            return False
        b.tokens -= cost
        return True

    async def acquire(self, key: str, cost: float = 1.0) -> bool:
        return self.allow(key, cost)

    def retry_after(self, cost: float = 1.0) -> int:
        return max(1, int(cost / self.rate + 0.999)) if self.rate > 0 else 0


_BUCKET_LUA = """
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens, stamp = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens, stamp = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local ok = 0
if tokens >= cost then tokens = tokens - cost; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return ok
"""


class RedisRateLimiter(RateLimiter):
    """The same buckets in Redis, shared by every API process; local buckets if Redis fails."""

    def __init__(self, url: str, rate: float, burst: float, *, prefix: str = "deskplat:rl:"):
        super().__init__(rate, burst)
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._script: Any = None
        self._warned_at = 0.0

    async def acquire(self, key: str, cost: float = 1.0) -> bool:
        if self.rate <= 0:
            return True
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        try:
            if self._client is None:  # created in the event loop that uses it
                self._client = aioredis.from_url(self.url, socket_timeout=0.5,
                                                 socket_connect_timeout=0.5)
                self._script = self._client.register_script(_BUCKET_LUA)
            ok = await self._script(keys=[self.prefix + key], args=[self.rate, self.burst, cost])
            return bool(int(ok))
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("rate-limit store unavailable (%s); local buckets in use",
                            type(exc).__name__)
            return self.allow(key, cost)


@dataclass(frozen=True)
class LimitConfig:
    max_body_bytes: int = MAX_BODY_BYTES
    max_json_depth: int = MAX_JSON_DEPTH
    token_rate: float = 50.0  # requests per second per bearer token
    token_burst: float = 200.0
    address_rate: float = 500.0  # requests per second per client address
    address_burst: float = 1000.0
    enroll_rate: float = 10 / 60  # enrollment attempts per second per address
    enroll_burst: float = 10.0
    store: str = ""  # "" (this process) or a redis:// URL shared by every API process


async def _error(send: Send, status: int, code: str, detail: str,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": code, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, config: LimitConfig | None = None):
        self.app = app
        self.config = c = config or LimitConfig()
        if c.store.startswith(("redis://", "rediss://", "unix://")):
            def make(rate: float, burst: float) -> RateLimiter:
                return RedisRateLimiter(c.store, rate, burst)
        elif c.store:
            raise ValueError("the rate-limit store must be a redis:// URL (or empty)")
        else:
            make = RateLimiter
        self.by_token = make(c.token_rate, c.token_burst)
        self.by_address = make(c.address_rate, c.address_burst)
        self.enroll = make(c.enroll_rate, c.enroll_burst)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        c = self.config
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        address = (scope.get("client") or ("unknown", 0))[0]
        path = scope.get("path", "")
        if not await self.by_address.acquire("a:" + address):
            await _error(send, 429, "rate_limited", "too many requests from this address",
                         [(b"retry-after", str(self.by_address.retry_after()).encode())])
            return
        if path == f"{API_PREFIX}/enroll" and not await self.enroll.acquire("e:" + address):
            await _error(send, 429, "rate_limited", "too many enrollment attempts",
                         [(b"retry-after", str(self.enroll.retry_after()).encode())])
            return
        auth = headers.get(b"authorization")
        if auth:
            key = "t:" + hashlib.sha256(auth).hexdigest()[:32]
            if not await self.by_token.acquire(key):
                await _error(send, 429, "rate_limited", "too many requests for this token",
                             [(b"retry-after", str(self.by_token.retry_after()).encode())])
                return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and (
                b"content-length" not in headers and b"transfer-encoding" not in headers):
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > c.max_body_bytes:
                    await _error(send, 413, "too_large",
                                 f"request body over {c.max_body_bytes} bytes")
                    return
            except ValueError:
                await _error(send, 400, "invalid_request", "bad content-length")
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > c.max_body_bytes:
                await _error(send, 413, "too_large", f"request body over {c.max_body_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and json_depth(body) > c.max_json_depth:
            await _error(send, 400, "too_deep",
                         f"JSON nested deeper than {c.max_json_depth} levels")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect

        await self.app(scope, replay, send)
