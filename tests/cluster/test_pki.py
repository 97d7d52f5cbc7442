"""The cluster's certificates: pods can verify the API server through the Service, the admin is a master."""

from __future__ import annotations

import ipaddress

import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.cluster import pki


def test_apiserver_cert_covers_gateway_vip_and_service_names(tmp_path):
    keys = pki.generate(tmp_path, gateway="10.244.0.1", service_vip="10.96.0.1", cluster_domain="cluster.local")
    cert = x509.load_pem_x509_certificate(keys.path("apiserver.crt").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(i) for i in sans.get_values_for_type(x509.IPAddress)} >= {"10.244.0.1", "10.96.0.1"}
    assert "kubernetes.default.svc.cluster.local" in sans.get_values_for_type(x509.DNSName)
    ca = x509.load_pem_x509_certificate(keys.ca.read_bytes())
    cert.verify_directly_issued_by(ca)
    assert ipaddress.ip_address("10.96.0.1") in sans.get_values_for_type(x509.IPAddress)


def test_admin_is_in_system_masters_and_kubeconfig_points_at_it(tmp_path):
    keys = pki.generate(tmp_path, gateway="10.244.0.1", service_vip="10.96.0.1", cluster_domain="cluster.local")
    admin = x509.load_pem_x509_certificate(keys.path("admin.crt").read_bytes())
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    kc = yaml.safe_load(pki.write_kubeconfig(keys, "https://10.244.0.1:6443", tmp_path / "kc").read_text())
    assert kc["clusters"][0]["cluster"] == {"server": "https://10.244.0.1:6443", "certificate-authority": str(keys.ca)}
    assert (tmp_path / "kc").stat().st_mode & 0o077 == 0
    assert keys.path("sa.key").stat().st_mode & 0o077 == 0
