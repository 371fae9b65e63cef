"""One TLS context per process for the backends' HTTP clients, made as each client's library makes its
default: an SDK client and a download client no longer read the CA bundle again for every backend
(a batch of storyboards, every render of the review room), and a CA named by SSL_CERT_FILE still
holds for the clients made after it is named."""

from __future__ import annotations

import ssl

import pytest

from storyboard import catalog
from storyboard.backends.base import create
from storyboard.backends.remote import tls


def contexts(o, seen=None) -> list[ssl.SSLContext]:
    """The TLS contexts an object holds, however deep in its client, transport and pool."""
    seen = seen if seen is not None else set()
    if id(o) in seen or not hasattr(o, "__dict__") and not isinstance(o, (list, tuple, dict)):
        return []
    seen.add(id(o))
    if isinstance(o, ssl.SSLContext):
        return [o]
    values = o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else vars(o).values()
    return [c for v in values for c in contexts(v, seen)]


def test_backends_share_one_context_per_library_and_ca_file(monkeypatch, tmp_path):
    trustme = pytest.importorskip("trustme")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RUNWAYML_API_SECRET", "test-key")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    openai_a, openai_b = create(catalog.get("openai")), create(catalog.get("openai"))
    runway = create(catalog.get("runway"))
    try:
        held = {id(c) for b in (openai_a, openai_b) for c in contexts(b.client._client)}
        assert held == {id(tls("httpx2"))}  # openai's SDK speaks httpx2: its kind of context, one for both
        assert {id(c) for c in contexts(runway.client._client) + contexts(runway.downloads)} == {id(tls("httpx"))}
        # the CA named by SSL_CERT_FILE, and only it, is trusted (as httpx would make it)
        from cryptography import x509
        serial = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).serial_number
        assert [int(c["serialNumber"], 16) for c in tls().get_ca_certs()] == [serial]
    finally:
        for b in (openai_a, openai_b, runway):
            b.close()
    # another CA file: a context of its own for the clients made from then on
    other = trustme.CA()
    other.cert_pem.write_to_path(str(tmp_path / "other.pem"))
    before = tls()
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "other.pem"))
    assert tls() is not before and len(tls().get_ca_certs()) == 1
    assert tls().get_ca_certs() != before.get_ca_certs()
