"""Typed settings from a TOML file, the environment and command-line flags.

Theory of operation
-------------------
`Settings` is a tree of frozen dataclasses with defaults a mail administrator would choose.
`load_settings` starts from the defaults, applies the TOML file (`--config`), then
environment variables (`BUZON_<SECTION>_<KEY>`, e.g. `BUZON_LIMITS_MAX_LITERAL`), then the
command-line overrides, in that order: the later source wins. Unknown keys and values of the
wrong type are errors that name the key, so a typo in a config file is never silently
ignored.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

KIB = 1024
MIB = 1024 * KIB


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Where the service listens and keeps its data."""

    data_dir: Path = Path("buzon-data")
    listen: tuple[str, ...] = ("127.0.0.1",)
    # Unprivileged defaults, so that a newcomer can run the server without root; a
    # production config sets 143 and 993 (docs/configuration.md). 0 disables a listener.
    imap_port: int = 1143
    imaps_port: int = 1993
    # POP3 (RFC 1939) with STLS and over implicit TLS: off unless asked for, since POP3
    # clients usually delete what they download (README suggests 1110 and 1995).
    pop3_port: int = 0
    pop3s_port: int = 0
    hostname: str = "localhost"
    debug: bool = False


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """Certificate and key; when both are empty a self-signed pair is generated."""

    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Password handling and the failed-login policy."""

    # Plaintext LOGIN/AUTHENTICATE is always allowed over TLS and on loopback; elsewhere
    # only when this is true (RFC 9051 §6.2.3: LOGINDISABLED is advertised otherwise).
    allow_plaintext: bool = False
    cache_ttl: float = 300.0
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # Users who may set quotas over IMAP (RFC 9208 SETQUOTA) and /shared server annotations.
    admins: tuple[str, ...] = ()
    # Users a message submission server logs in as: they may fetch URLAUTH URLs made for
    # "submit+<user>" (RFC 4467 §3).
    submit_users: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Bounds on every resource a client can make the server spend."""

    max_line: int = 64 * KIB
    max_literal: int = 64 * MIB
    max_command: int = 128 * MIB
    max_depth: int = 32
    max_connections: int = 5000
    max_connections_per_user: int = 50
    max_connections_per_address: int = 200
    # RFC 9051 §5.4: the autologout timer is at least 30 minutes once authenticated.
    unauthenticated_timeout: float = 60.0
    idle_timeout: float = 1800.0
    # RFC 5464 §4.1: at least 1024 octets per annotation and 10 annotations per mailbox.
    max_metadata_size: int = 64 * KIB
    max_metadata_entries: int = 100
    # RFC 2177: an idling client hears "* OK Still here" this often, so that NAT boxes and
    # firewalls keep the connection open.
    idle_keepalive: float = 120.0


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """Names of the special-use mailboxes every new account gets (RFC 6154)."""

    drafts: str = "Drafts"
    sent: str = "Sent"
    templates: str = "Templates"
    trash: str = "Trash"
    junk: str = "Junk"
    archive: str = "Archive"


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """How the embedded store writes."""

    # FULL: an acknowledged write survives power loss; NORMAL survives a crash of the
    # process (kill -9) but not of the machine.
    synchronous_full: bool = True


@dataclass(frozen=True, slots=True)
class LmtpSettings:
    """Mail delivery over LMTP (RFC 2033) and `buzon deliver`."""

    # LMTP must not use port 25 (RFC 2033 §6); 0 disables the TCP listener.
    port: int = 2424
    listen: tuple[str, ...] = ("127.0.0.1",)
    socket: Path | None = None  # a Unix socket path, e.g. Postfix's lmtp:unix:/path
    socket_mode: str = "0666"  # octal permissions of the socket
    domains: tuple[str, ...] = ()  # the domains delivered to; empty: every domain
    detail_delimiter: str = "+"  # user+detail@domain -> user; "" disables
    detail_folder: bool = True  # ... into the folder "detail" when it exists
    max_message_size: int = 64 * MIB  # advertised as SIZE (RFC 1870)
    max_recipients: int = 1000
    timeout: float = 300.0
    starttls: bool = True  # offer STARTTLS with the server's certificate


@dataclass(frozen=True, slots=True)
class Settings:
    """All settings."""

    server: ServerSettings = field(default_factory=ServerSettings)
    tls: TlsSettings = field(default_factory=TlsSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    mailboxes: MailboxSettings = field(default_factory=MailboxSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    lmtp: LmtpSettings = field(default_factory=LmtpSettings)


Overrides = Mapping[str, Mapping[str, object]]


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
) -> Settings:
    """Defaults, then the TOML file, then `BUZON_*` variables, then `overrides`."""
    settings = Settings()
    if config_file is not None:
        try:
            with config_file.open("rb") as fh:
                document = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config_file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_file} is not valid TOML: {exc}") from exc
        settings = _apply(settings, document, source=str(config_file), base=config_file.parent)
    settings = _apply(
        settings,
        _from_environ(environ if environ is not None else os.environ),
        source="environment",
        base=Path.cwd(),
    )
    if overrides:
        settings = _apply(settings, overrides, source="command line", base=Path.cwd())
    return settings


def _from_environ(environ: Mapping[str, str]) -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = {}
    sections = {f.name for f in dataclasses.fields(Settings)}
    for key, value in environ.items():
        if not key.startswith("BUZON_"):
            continue
        rest = key[len("BUZON_") :].lower()
        section, _, name = rest.partition("_")
        if section in sections and name:
            result.setdefault(section, {})[name] = value
    return result


def _apply(
    settings: Settings, document: Mapping[str, object], *, source: str, base: Path
) -> Settings:
    changes: dict[str, object] = {}
    for section_name, values in document.items():
        current = getattr(settings, section_name, None)
        if current is None or not dataclasses.is_dataclass(current):
            raise ConfigError(f"{source}: unknown section [{section_name}]")
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: [{section_name}] must be a table")
        changes[section_name] = _apply_section(current, section_name, values, source, base)
    return dataclasses.replace(settings, **cast("dict[str, Any]", changes))


def _apply_section(
    section: object, section_name: str, values: Mapping[str, object], source: str, base: Path
) -> object:
    assert dataclasses.is_dataclass(section)
    assert not isinstance(section, type)
    hints = typing.get_type_hints(type(section))
    known = {f.name for f in dataclasses.fields(section)}
    changes: dict[str, object] = {}
    for key, raw in values.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown setting {section_name}.{key}")
        try:
            changes[key] = _coerce(raw, hints[key], base)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: {section_name}.{key}: {exc}") from exc
    return dataclasses.replace(section, **cast("dict[str, Any]", changes))


def _coerce(raw: object, hint: object, base: Path) -> object:
    """Convert a TOML value, an environment string or a flag value to the field's type."""
    origin = typing.get_origin(hint)
    if origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if raw is None or raw == "":
            return None
        return _coerce(raw, args[0], base)
    if hint is bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(raw, str) and raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    if hint is int:
        if isinstance(raw, bool):
            raise ValueError(f"expected an integer, got {raw!r}")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str):
            return parse_size(raw)
        raise ValueError(f"expected an integer, got {raw!r}")
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError(f"expected a number, got {raw!r}")
        return float(raw)
    if hint is str:
        if not isinstance(raw, str):
            raise ValueError(f"expected a string, got {raw!r}")
        return raw
    if hint is Path:
        if not isinstance(raw, str | Path):
            raise ValueError(f"expected a path, got {raw!r}")
        path = Path(raw).expanduser()
        return path if path.is_absolute() else base / path
    if origin is tuple:
        if isinstance(raw, str):
            items: list[object] = [part.strip() for part in raw.split(",") if part.strip()]
        elif isinstance(raw, list | tuple):
            items = list(raw)
        else:
            raise ValueError(f"expected a list, got {raw!r}")
        return tuple(_coerce(item, str, base) for item in items)
    raise TypeError(f"unsupported setting type {hint!r}")


_SIZE_SUFFIXES = {"k": KIB, "m": MIB, "g": 1024 * MIB, "t": 1024 * 1024 * MIB}


def parse_size(text: str) -> int:
    """An integer with an optional binary suffix: "64M", "1G", "512k", "1000"."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    if not cleaned:
        raise ValueError("empty size")
    multiplier = _SIZE_SUFFIXES.get(cleaned[-1], 1)
    number = cleaned[:-1] if multiplier != 1 else cleaned
    try:
        value = int(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r}") from None
    if value < 0:
        raise ValueError(f"size must not be negative: {text!r}")
    return value * multiplier
