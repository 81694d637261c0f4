"""Certificates and signing keys: a CA generated on first start, a server certificate for the
loopback names, an RS256 token-signing key, and a CA bundle that adds the sandbox CA to the
system CAs (for REQUESTS_CA_BUNDLE)."""
from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SYSTEM_CA_CANDIDATES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_key(path: Path) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)  # type: ignore[return-value]


class Pki:
    """Files under DIR/pki; created once, reused on every later start."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "pki"
        self.ca_file = self.dir / "ca.pem"
        self.server_cert_file = self.dir / "server.pem"
        self.server_key_file = self.dir / "server-key.pem"
        self.signing_key_file = self.dir / "signing-key.pem"
        self.signing_cert_file = self.dir / "signing-cert.pem"
        self.bundle_file = self.dir / "ca-bundle.pem"

    def ensure(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.ca_file.exists() or not self.server_cert_file.exists():
            self._create_ca_and_server_cert()
        if not self.signing_key_file.exists():
            _write_private(self.signing_key_file, _pem_key(_new_key()))
            self.signing_cert_file.unlink(missing_ok=True)
        if not self.signing_cert_file.exists():  # also for a state made before the certificate was
            self._create_signing_cert()
        self._write_bundle()

    def _create_signing_cert(self) -> None:
        """A self-signed certificate of the token-signing key, published in the JWKS (x5c) as the
        identity platform publishes its own (self-signed, CN accounts.accesscontrol.windows.net)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        key = self.signing_key()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.windows.net")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=5 * 365))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        self.signing_cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _create_ca_and_server_cert(self) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = _new_key()
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partnercenter.secure_app sandbox CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        server_key = _new_key()
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.IPAddress(ipaddress.ip_address("::1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        # The CA key is not kept: nothing else is ever signed with it.
        self.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.server_cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
        _write_private(self.server_key_file, _pem_key(server_key))

    def _write_bundle(self) -> None:
        system = b""
        for candidate in SYSTEM_CA_CANDIDATES:
            if os.path.exists(candidate):
                system = Path(candidate).read_bytes()
                break
        bundle = system.rstrip(b"\n") + b"\n" + self.ca_file.read_bytes()
        if not self.bundle_file.exists() or self.bundle_file.read_bytes() != bundle:
            self.bundle_file.write_bytes(bundle)

    def signing_key(self) -> rsa.RSAPrivateKey:
        return _load_key(self.signing_key_file)

    def signing_certificate(self) -> bytes:
        """The DER of the token-signing certificate."""
        cert = x509.load_pem_x509_certificate(self.signing_cert_file.read_bytes())
        return cert.public_bytes(serialization.Encoding.DER)

    def signing_key_id(self) -> str:
        """The key id the identity platform uses: the certificate's SHA-1 thumbprint, base64url (x5t)."""
        digest = hashlib.sha1(self.signing_certificate()).digest()  # nosec - a thumbprint, as Entra's x5t
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
