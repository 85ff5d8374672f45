"""TLS setup: a server `ssl.SSLContext` from configured files or a generated self-signed pair.

Theory of operation
-------------------
With a certificate and key configured, both are read and checked with `cryptography` first
(readable, PEM, unencrypted key, key matching the first certificate), so that a mistake is
reported as a `TlsConfigError` naming the file rather than as an OpenSSL error code.

With neither configured, the server manages its own pair under ``<data_dir>/tls/``: on first
start it generates an EC P-256 key and a self-signed certificate valid for 10 years (names:
localhost, the host name, 127.0.0.1 and ::1) and writes ``key.pem`` (mode 0600) and
``cert.pem`` atomically; later starts reuse them. If exactly one of the two files is there
(a crash between the two writes) the pair is generated again. Files that are present but
broken are reported, never overwritten.

The context serves both implicit TLS (RFC 8314, port 993) and STARTTLS (RFC 9051 §6.2.1,
RFC 2595): TLS 1.2 at least, forward-secret AEAD cipher suites only for TLS 1.2 (TLS 1.3
suites are all fine), no TLS compression (CRIME), no renegotiation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsConfigError", "TlsSetup", "fingerprint", "load_or_create_tls", "server_context"]

CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"
VALIDITY = dt.timedelta(days=3653)

# Mozilla "intermediate" TLS 1.2 suites: ECDHE/DHE key exchange, AEAD ciphers only.
TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "DHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384",
    ]
)


class TlsConfigError(Exception):
    """The TLS certificate or key cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class TlsSetup:
    """A ready server context and facts worth logging at start."""

    context: ssl.SSLContext
    fingerprint_sha256: str  # of the DER leaf certificate, "AB:CD:..." (what clients show)
    generated: bool  # a self-signed pair was created by this call
    self_signed: bool  # the pair is the server-managed one under data_dir/tls/
    cert_path: Path
    key_path: Path


def load_or_create_tls(data_dir: Path, cert_file: Path | None, key_file: Path | None) -> TlsSetup:
    """Build the server TLS context; generate a self-signed pair when none is configured."""
    if (cert_file is None) != (key_file is None):
        missing = "key" if key_file is None else "certificate"
        raise TlsConfigError(f"a TLS certificate and key must be configured together: no {missing}")
    generated = False
    if cert_file is not None and key_file is not None:
        cert_path, key_path, self_signed = cert_file, key_file, False
    else:
        tls_dir = data_dir / "tls"
        cert_path, key_path, self_signed = tls_dir / CERT_NAME, tls_dir / KEY_NAME, True
        if not (cert_path.exists() and key_path.exists()):
            _generate(tls_dir, cert_path, key_path)
            generated = True
    leaf = _check_pair(cert_path, key_path)
    return TlsSetup(
        context=server_context(cert_path, key_path),
        fingerprint_sha256=fingerprint(leaf),
        generated=generated,
        self_signed=self_signed,
        cert_path=cert_path,
        key_path=key_path,
    )


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """A server-side context with our protocol settings and this certificate chain."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_SINGLE_ECDH_USE
    try:
        ctx.load_cert_chain(certfile=cert_path, keyfile=key_path)
    except (OSError, ssl.SSLError) as e:
        raise TlsConfigError(
            f"cannot load TLS certificate {cert_path} with key {key_path}: {e}"
        ) from e
    return ctx


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate as colon-separated upper-case hex."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


# --- checking ----------------------------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise TlsConfigError(f"cannot read TLS {what} file {path}: {e.strerror or e}") from None


def _check_pair(cert_path: Path, key_path: Path) -> x509.Certificate:
    """Load and cross-check the pair; return the leaf certificate."""
    cert_pem = _read(cert_path, "certificate")
    key_pem = _read(key_path, "key")
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise TlsConfigError(f"no PEM certificate could be read from {cert_path}") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise TlsConfigError(
            f"the TLS key {key_path} is encrypted; give an unencrypted key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsConfigError(f"no PEM private key could be read from {key_path}") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, spki) != chain[0].public_key().public_bytes(der, spki):
        raise TlsConfigError(
            f"the TLS key {key_path} does not match the certificate {cert_path} "
            "(the first certificate in the file must be the server's own)"
        )
    return chain[0]


# --- generating --------------------------------------------------------------------------


def _names() -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    host = socket.gethostname()
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    if ascii_host and ascii_host.lower() != "localhost":
        names.append(x509.DNSName(ascii_host))
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    names.append(x509.IPAddress(ipaddress.ip_address("::1")))
    return names


def _self_signed() -> tuple[bytes, bytes]:
    """A new (certificate PEM, key PEM) pair."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, socket.gethostname()[:64] or "localhost"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Buzón self-signed"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))  # tolerate clients with slow clocks
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_names()), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _generate(tls_dir: Path, cert_path: Path, key_path: Path) -> None:
    try:
        tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        cert_pem, key_pem = _self_signed()
        cert_path.unlink(missing_ok=True)
        # Key first: a crash in between leaves a key without a certificate, which the next
        # start replaces; never a certificate whose key is missing or another one.
        _write_atomically(key_path, key_pem, 0o600)
        _write_atomically(cert_path, cert_pem, 0o644)
    except OSError as e:
        raise TlsConfigError(f"cannot write a self-signed TLS pair in {tls_dir}: {e}") from None


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; never widened for the key
        with os.fdopen(fd, "wb") as f:
            fd = -1
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
