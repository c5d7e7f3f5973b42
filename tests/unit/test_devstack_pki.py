"""The API server's certificates form the chains envtest makes: serving CA and client CA apart."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from simptu.devstack import pki


def _verify(child: x509.Certificate, issuer: x509.Certificate) -> None:
    public = issuer.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    child.verify_directly_issued_by(issuer)


def test_serving_certificate_names_loopback_and_the_kubernetes_service() -> None:
    ca = pki.make_ca("test-ca")
    serving = pki.issue(ca, "kube-apiserver", server=True, dns_names=("kubernetes.default",),
                        ip_addresses=("127.0.0.1",))
    _verify(serving.cert, ca.cert)
    san = serving.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "kubernetes.default" in san.get_values_for_type(x509.DNSName)
    usage = serving.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_admin_client_certificate_is_in_system_masters_and_signed_by_the_client_ca() -> None:
    serving_ca, client_ca = pki.make_ca("serving"), pki.make_ca("clients")
    admin = pki.issue(client_ca, "simptu-admin", organization="system:masters")
    _verify(admin.cert, client_ca.cert)
    assert admin.cert.issuer != serving_ca.cert.subject
    orgs = admin.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [o.value for o in orgs] == ["system:masters"]


def test_pairs_round_trip_through_files_with_private_keys_unreadable_to_others(
    tmp_path: Path,
) -> None:
    ca = pki.make_ca("test-ca")
    pki.write_pair(ca, tmp_path, "ca")
    loaded = pki.load_pair(tmp_path, "ca")
    assert loaded.cert == ca.cert
    assert (tmp_path / "ca.key").stat().st_mode & 0o077 == 0
    pki.write_service_account_keys(tmp_path)
    assert b"BEGIN PUBLIC KEY" in (tmp_path / "sa.pub").read_bytes()
    assert (tmp_path / "sa.key").stat().st_mode & 0o077 == 0
