"""Settings: defaults, TOML, environment and flags, in that order; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from buzon.config import KIB, MIB, ConfigError, Settings, load_settings, parse_size


def test_defaults() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.server.imap_port == 1143
    assert settings.server.imaps_port == 1993
    assert settings.limits.idle_timeout >= 30 * 60  # RFC 9051 §5.4


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "buzon.toml"
    path.write_text(
        '[server]\ndata_dir = "mail"\nlisten = ["0.0.0.0", "::"]\nimap_port = 143\n'
        '[limits]\nmax_literal = "32M"\n[tls]\ncert = "/etc/c.pem"\n'
    )
    settings = load_settings(
        path,
        environ={
            "BUZON_SERVER_IMAP_PORT": "1430",
            "BUZON_AUTH_ALLOW_PLAINTEXT": "yes",
            "OTHER": "x",
        },
        overrides={"server": {"imaps_port": 0}},
    )
    assert settings.server.data_dir == tmp_path / "mail"  # relative to the file
    assert settings.server.listen == ("0.0.0.0", "::")
    assert settings.server.imap_port == 1430
    assert settings.server.imaps_port == 0
    assert settings.limits.max_literal == 32 * MIB
    assert settings.auth.allow_plaintext is True
    assert settings.tls.cert == Path("/etc/c.pem")


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[limits]\nmax_lines = 5\n", "unknown setting limits.max_lines"),
        ("[nope]\nx = 1\n", "unknown section [nope]"),
        ('[server]\nimap_port = "many"\n', "server.imap_port"),
        ("[auth]\nallow_plaintext = 3\n", "auth.allow_plaintext: expected true or false"),
        ("[server]\nimap_port = true\n", "server.imap_port: expected an integer"),
        ("not toml at all", "is not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(path, environ={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.toml", environ={})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1000", 1000),
        ("64k", 64 * KIB),
        ("64K", 64 * KIB),
        ("32M", 32 * MIB),
        ("1G", 1024 * MIB),
        ("2MiB", 2 * MIB),
        ("10kb", 10 * KIB),
    ],
)
def test_sizes(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "M", "-1", "1.5M", "lots"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)
