"""The team store's address: parse a PostgreSQL URL and decide how it must be reached (pure).

Rules (issue 16): a server that is not on the loopback interface is reached over TLS with the
server's certificate and name verified (`sslmode=verify-full`); plain TCP is accepted only for
127.0.0.1 / ::1 or a local (unix) socket. A password is never kept in the URL: it is taken out
here and the caller keeps it in the OS keyring. The address names one server, and carries only
the connection options that cannot send the connection elsewhere (`ALLOWED_OPTIONS`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_VERIFYING = ("verify-full",)
# The connection options an address may carry besides host and port: TLS material and
# timeouts. Anything else could send the connection (and the password) somewhere the address
# does not say — `hostaddr` connects to another address than the host that decided "on this
# machine", `service`/`servicefile`/`passfile` read files naming other servers, `options` sets
# server parameters such as search_path, `target_session_attrs`/`load_balance_hosts` pick among
# servers, `require_auth`/`channel_binding`/`gssencmode` change how the password is sent — so it
# is refused, naming the option.
ALLOWED_OPTIONS = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "sslsni",
    "ssl_min_protocol_version", "application_name", "connect_timeout", "keepalives",
    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
})


@dataclass(frozen=True)
class TeamUrl:
    """A checked team store address, without its password."""

    user: str
    host: str  # a name, an IP address, or a socket folder (starts with "/"); "" = default socket
    port: int | None
    database: str
    query: tuple[tuple[str, str], ...]

    @property
    def local_socket(self) -> bool:
        return self.host == "" or self.host.startswith("/")

    @property
    def loopback(self) -> bool:
        if self.local_socket:
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback and \
                self.host.strip("[]") in ("127.0.0.1", "::1")
        except ValueError:
            return False

    @property
    def tls_required(self) -> bool:
        return not self.loopback

    @property
    def display(self) -> str:
        """Where the store is, for messages (no password)."""
        if self.local_socket:
            where = f"local socket {self.host or '(default)'}"
            if self.port:
                where += f" port {self.port}"
        else:
            host = f"[{self.host}]" if ":" in self.host else self.host
            where = f"{host}:{self.port or 5432}"
        return f"{self.user + '@' if self.user else ''}{where}/{self.database}"

    def text(self) -> str:
        """The URL as kept in the workstation's team link (postgresql://, no password)."""
        netloc = quote(self.user, safe="") + "@" if self.user else ""
        if not self.local_socket:
            netloc += f"[{self.host}]" if ":" in self.host else self.host
            if self.port:
                netloc += f":{self.port}"
        query = list(self.query)
        if self.local_socket:
            if self.host:
                query.append(("host", self.host))
            if self.port:
                query.append(("port", str(self.port)))
        q = "?" + urlencode(query) if query else ""
        return f"postgresql://{netloc}/{quote(self.database, safe='')}{q}"

    def driver_url(self) -> str:
        """The same address as SQLAlchemy names it (psycopg 3 driver)."""
        return "postgresql+psycopg" + self.text()[len("postgresql"):]


def example_url(env: Environment | None = None) -> str:
    """A team store address as an example, its database named for `env` (Test by default)."""
    return f"postgresql://officer@db.example.org/smki_{(env or Environment.TEST).value}"


def parse_team_url(url: str, env: Environment | None = None) -> tuple[TeamUrl, str | None]:
    """Check `url`; return the address and the password it carried (if any), to be moved to
    the keyring. Bad input raises InputError naming the cause (its example address is of
    `env`'s database, where one is given)."""
    what = "Team store URL"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InputError(f"{what}: {exc}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise InputError(f"{what}: {url.split(':', 1)[0]!r} is not a PostgreSQL address "
                         "(it starts with postgresql://)")
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise InputError(f"{what}: name the database after the host, as in "
                         f"{example_url(env)}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    host = parts.hostname or ""
    rest: list[tuple[str, str]] = []
    seen: set[str] = set()
    for k, v in query:
        if k in seen:
            raise InputError(f"{what}: the option {k!r} is given twice; give it once")
        seen.add(k)
        if k == "host":
            if host:
                raise InputError(f"{what}: the host is named twice ({host!r} and host={v!r}); "
                                 "name it once")
            if not v.startswith("/"):
                raise InputError(f"{what}: host={v!r} in the options is only for a local "
                                 "socket folder (starting with /); put a server's name after "
                                 "postgresql://")
            host = v
        elif k == "port":
            if port is not None:
                raise InputError(f"{what}: the port is named twice; name it once")
            if not v.isdigit():
                raise InputError(f"{what}: port {v!r} is not a number")
            port = int(v)
        elif k in ("password", "sslpassword"):
            raise InputError(f"{what}: a password does not belong in the address; it is "
                             "asked for separately and kept in the OS keyring")
        elif k not in ALLOWED_OPTIONS:
            raise InputError(f"{what}: the option {k!r} is not accepted: it could take the "
                             "connection or the password elsewhere than the address says. "
                             "Accepted: " + ", ".join(sorted(ALLOWED_OPTIONS)))
        else:
            rest.append((k, v))
    if parts.hostname and ":" in (parts.hostname or ""):
        host = parts.hostname
    if "," in host or "," in parts.netloc:
        raise InputError(f"{what}: name one server; a list of servers ({host or parts.netloc!r}) "
                         "is not accepted")
    t = TeamUrl(unquote(parts.username or ""), host, port, database, tuple(rest))
    opts = dict(rest)
    if t.tls_required:
        mode = opts.get("sslmode", "verify-full")
        if mode not in _VERIFYING:
            raise InputError(
                f"{what}: {t.display} is not on this machine, so it is reached only over TLS "
                f"with the server verified (sslmode=verify-full); sslmode={mode} is refused")
        if "sslmode" not in opts:
            t = TeamUrl(t.user, t.host, t.port, t.database, (*rest, ("sslmode", "verify-full")))
    password = unquote(parts.password) if parts.password is not None else None
    return t, password
