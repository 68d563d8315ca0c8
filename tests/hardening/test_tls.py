"""A compromised network: an impostor platform with its own certificate gets no request from the
desk (so never its bearer token); the same server is trusted only when hospital IT names its CA."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from desk_app.errors import ConfigError
from desk_app.settings import PlatformSection
from sync.client import DeskApi, PlatformUnavailable
from sync.tokens import TokenStore

TOKEN = "rnp_" + "T0ken" * 8


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "impostor")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    c, k = tmp / "cert.pem", tmp / "key.pem"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return c, k


@pytest.fixture
def impostor(tmp_path):
    cert, key = _self_signed(tmp_path)
    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            seen.append((self.path, self.headers.get("authorization")))
            body = json.dumps({"status": "ok", "version": "x", "protocol": 1,
                               "server_time": dt.datetime.now(dt.UTC).isoformat()}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert, seen
    server.shutdown()
    server.server_close()


def _api(url: str, tmp_path: Path, **kw) -> DeskApi:
    tokens = TokenStore(tmp_path / "data", "desk-01", use_keyring=False)
    tokens.set(TOKEN)
    return DeskApi(PlatformSection(url=url, timeout_s=3, **kw), tokens)


def test_impostor_certificate_is_refused_before_any_request(impostor, tmp_path):
    url, cert, seen = impostor
    with _api(url, tmp_path) as api, pytest.raises(PlatformUnavailable):
        api.whoami()
    assert seen == []  # the handshake failed: no path, no token reached the impostor


def test_site_ca_file_makes_that_server_trusted(impostor, tmp_path):
    url, cert, seen = impostor
    with _api(url, tmp_path, ca_file=str(cert)) as api:
        assert api.health().status == "ok"
    assert seen and seen[0][0] == "/v1/health"


def test_unreadable_ca_file_is_a_config_error(impostor, tmp_path):
    url, _, _ = impostor
    with pytest.raises(ConfigError):
        _api(url, tmp_path, ca_file=str(tmp_path / "missing.pem"))
