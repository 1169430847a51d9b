"""https to a checked address: the certificate is still verified for the URL's name (SNI and hostname check).

A throwaway CA signs a certificate for ``api.example.test``; a fake resolver
points that name at 127.0.0.1, where the test server speaks TLS.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from engine import Job
from protocols.http import ConnectionFailed, EgressPolicy, HttpConnector
from tests.protocols.http.server import EchoServer, serve

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

NAME = "api.example.test"


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool) -> Any:
    now = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=36500))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EchoServer, ssl.SSLContext]]:
    root: Path = tmp_path_factory.mktemp("tls")
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("agenthub test CA", ca_key, "agenthub test CA", ca_key, ca=True)
    leaf = _certificate(NAME, leaf_key, "agenthub test CA", ca_key, ca=False)
    (root / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (root / "leaf.key").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    trust = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    with serve(certfile=str(root / "leaf.pem"), keyfile=str(root / "leaf.key")) as server:
        yield server, trust


async def _to_loopback(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"]


def _run(connector: HttpConnector, url: str) -> dict[str, Any]:
    job = Job(key=1, type="http", variables={}, headers={"url": url}, retries=3, instance=1,
              element_id="CallApi", process_id="order")
    return asyncio.run(connector(job))


def test_https_to_the_checked_address_verifies_the_certificate_for_the_url_name(
    tls: tuple[EchoServer, ssl.SSLContext],
) -> None:
    server, trust = tls
    connector = HttpConnector(EgressPolicy.from_env("*.example.test"), resolve=_to_loopback, ssl_context=trust)
    result = _run(connector, f"https://{NAME}:{server.port}/echo")
    assert result["response"]["body"]["headers"]["host"] == f"{NAME}:{server.port}"


def test_https_fails_when_the_certificate_does_not_name_the_url_host(tls: tuple[EchoServer, ssl.SSLContext]) -> None:
    server, trust = tls
    connector = HttpConnector(EgressPolicy.from_env("*.example.test"), resolve=_to_loopback, ssl_context=trust)
    with pytest.raises(ConnectionFailed, match=r"certificate is not valid for 'other\.example\.test'"):
        _run(connector, f"https://other.example.test:{server.port}/echo")
