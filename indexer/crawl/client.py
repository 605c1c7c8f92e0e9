"""A polite HTTP client: allowed hosts only, robots.txt, a per-host pace, retries, byte and time caps."""
from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from indexer.crawl.robots import RobotsCache
from indexer.errors import FetchError
from indexer.sources import MAX_BYTES

# Statuses worth another try: the server is busy or briefly broken, not saying "no".
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# A server's Retry-After or robots Crawl-delay is obeyed up to this many seconds, so a hostile
# value cannot stall a crawl for hours.
MAX_WAIT_SECONDS = 30.0
DEFAULT_USER_AGENT = "FazhiLens/1.0 (rule-of-law report indexer; polite crawler)"


@dataclass(frozen=True)
class ClientSettings:
    """How politely and how patiently to fetch."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 15.0  # seconds to connect, and between two reads
    deadline: float = 60.0  # seconds for one whole response, body included
    delay: float = 1.0  # at least this many seconds between two requests to one host
    retries: int = 3  # further tries after a timeout, a dropped connection or a 5xx/429
    backoff: float = 1.0  # the first retry waits this long, each next one twice as long
    max_bytes: int = MAX_BYTES
    max_redirects: int = 5

    def __post_init__(self):
        if self.timeout <= 0 or self.deadline <= 0:
            raise ValueError("The timeout and the deadline must be positive numbers of seconds.")
        if self.delay < 0 or self.retries < 0 or self.backoff < 0:
            raise ValueError("The delay, the number of retries and the backoff cannot be negative.")
        if self.max_bytes <= 0:
            raise ValueError("The byte cap must be a positive number of bytes.")


@dataclass(frozen=True)
class Validators:
    """What a previous response said about its version, for a conditional GET."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class Fetched:
    """One response as read: 200 with its body, or 304 without one."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    content: bytes
    content_type: str  # media type, lower case, without parameters
    charset: str  # declared in the Content-Type header, lower case, or ""
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def host_key(url: str) -> str:
    """'host:port' of a URL, lower case, with the scheme's default port spelled out."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def check_web_url(url: str) -> str:
    """Return `url` if it is an absolute http(s) URL with a host; raise ValueError with a sentence otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a web address: give an absolute http:// or https:// URL.")
    return url


class PoliteClient:
    """Fetch pages from a fixed set of hosts, as a well-behaved crawler would."""

    def __init__(
        self,
        allowed: Iterable[str],
        settings: ClientSettings = ClientSettings(),
        extra_hosts: Iterable[str] = (),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.allowed = frozenset(host_key(check_web_url(url)) for url in allowed)
        # --allow-host names a host on any port and either scheme: "files.example.gov.cn".
        self.extra_hosts = frozenset(
            (urlsplit(host).hostname if "//" in host else host.split(":")[0]).lower() for host in extra_hosts if host
        )
        self.requested: list[str] = []  # every URL actually sent, in order (tests read it)
        self._sleep = sleep
        self._clock = clock
        self._last_request: dict[str, float] = {}
        # trust_env=False: no proxy or netrc from the environment; redirects are followed by
        # hand so that every hop is checked against the allowed hosts and robots.txt.
        self._http = httpx.Client(
            timeout=httpx.Timeout(settings.timeout),
            headers={"User-Agent": settings.user_agent, "Accept-Language": "zh-CN,zh;q=0.9"},
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )
        self._robots = RobotsCache(self._read_robots, settings.user_agent)

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def check_allowed(self, url: str) -> None:
        """Raise FetchError unless `url` is an http(s) URL on one of the allowed hosts."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(url, "is not an http:// or https:// address, so it is not fetched.")
        if host_key(url) not in self.allowed and parts.hostname.lower() not in self.extra_hosts:
            hosts = ", ".join(sorted(self.allowed | self.extra_hosts))
            raise FetchError(
                url, f"is on another host ({parts.hostname}); only {hosts} is fetched (add hosts with --allow-host)."
            )

    def get(self, url: str, validators: Validators | None = None) -> Fetched:
        """GET `url` (following redirects on allowed hosts), conditionally when validators are given."""
        seen = [url]
        current = url
        while True:
            self.check_allowed(current)
            if not self._robots.allows(current):
                raise FetchError(current, f"is disallowed for crawlers by the robots.txt of {urlsplit(current).netloc}.")
            headers = validators.headers() if validators else {}
            status, response_headers, body = self._request(current, headers)
            if status in REDIRECT_STATUSES:
                location = response_headers.get("location", "").strip()
                if not location:
                    raise FetchError(current, f"answered with a redirect (HTTP {status}) that says nowhere to go.")
                target = urljoin(current, location)
                if target in seen:
                    raise FetchError(url, "redirects in a loop (" + " → ".join(seen + [target]) + ").")
                if len(seen) > self.settings.max_redirects:
                    raise FetchError(url, f"redirects more than {self.settings.max_redirects} times.")
                seen.append(target)
                current = target
                continue
            return _fetched(url, current, status, response_headers, body)

    # ---------------------------------------------------------------- one request, with retries

    def _request(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                status, response_headers, body = self._send_once(url, headers)
            except httpx.TimeoutException as exc:
                if last:
                    raise FetchError(
                        url, f"did not answer within {self.settings.timeout:g} seconds, {attempts} times in a row."
                    ) from exc
                self._sleep(self._backoff(attempt))
                continue
            except httpx.TransportError as exc:
                if last:
                    raise FetchError(url, f"could not be reached ({type(exc).__name__}: {exc}), {attempts} times in a row.") from exc
                self._sleep(self._backoff(attempt))
                continue
            if status in RETRY_STATUSES and not last:
                self._sleep(max(self._backoff(attempt), _retry_after(response_headers)))
                continue
            if status in RETRY_STATUSES or (status >= 400 and status != 304):
                raise FetchError(url, _status_sentence(status, attempts if status in RETRY_STATUSES else 1))
            return status, response_headers, body
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _backoff(self, attempt: int) -> float:
        return min(self.settings.backoff * (2 ** attempt), MAX_WAIT_SECONDS)

    def _pace(self, url: str) -> None:
        host = host_key(url)
        delay = max(self.settings.delay, min(self._robots.crawl_delay(url), MAX_WAIT_SECONDS))
        last = self._last_request.get(host)
        if last is not None:
            wait = last + delay - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_request[host] = self._clock()

    def _send_once(self, url: str, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        """One paced GET; the body is read up to the byte cap and the deadline."""
        self._pace(url)
        self.requested.append(url)
        limit = self.settings.max_bytes
        deadline = self._clock() + self.settings.deadline
        with self._http.stream("GET", url, headers=headers) as response:
            if response.status_code in REDIRECT_STATUSES or response.status_code >= 300:
                return response.status_code, response.headers, b""
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise FetchError(url, f"is {int(declared) / 1048576:.1f} MB, more than the {limit / 1048576:g} MB read from one address.")
            parts: list[bytes] = []
            size = 0
            # iter_bytes decompresses: the cap counts what gzip would inflate to, not what came in.
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchError(url, f"is larger than the {limit / 1048576:g} MB read from one address; reading stopped there.")
                if self._clock() > deadline:
                    raise FetchError(url, f"took more than {self.settings.deadline:g} seconds to send; reading stopped.")
                parts.append(chunk)
            return response.status_code, response.headers, b"".join(parts)

    def _read_robots(self, robots_url: str) -> tuple[int, bytes]:
        """robots.txt as (status, body); 0 when the host could not be reached."""
        url = robots_url
        for _hop in range(self.settings.max_redirects):
            try:
                status, headers, body = self._send_once(url, {})
            except (httpx.TransportError, FetchError):
                return 0, b""
            location = headers.get("location", "").strip()
            if status not in REDIRECT_STATUSES or not location:
                return status, body
            url = urljoin(url, location)
            if host_key(url) != host_key(robots_url):
                return 404, b""  # robots.txt elsewhere is no robots.txt for this site
        return 404, b""


def _fetched(url: str, final_url: str, status: int, headers: httpx.Headers, body: bytes) -> Fetched:
    media, _, params = headers.get("content-type", "").partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    return Fetched(
        url=url,
        final_url=final_url,
        status=status,
        content=body,
        content_type=media.strip().lower(),
        charset=charset,
        validators=Validators(headers.get("etag", ""), headers.get("last-modified", "")),
    )


def _retry_after(headers: httpx.Headers) -> float:
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return min(max(when.timestamp() - time.time(), 0.0), MAX_WAIT_SECONDS)


_STATUS_WORDS = {
    401: "needs a login",
    403: "is forbidden to us",
    404: "does not exist",
    410: "has been removed",
    429: "refused us for asking too often",
}


def _status_sentence(status: int, attempts: int) -> str:
    words = _STATUS_WORDS.get(status, "failed on the server" if status >= 500 else "was refused")
    tries = f", {attempts} times in a row" if attempts > 1 else ""
    return f"{words} (HTTP {status}{tries})."
