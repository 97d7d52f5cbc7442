"""Certificates and keys of the test cluster, and the admin kubeconfig.

One CA signs: the API server's serving cert (valid for the bridge gateway, the
``kubernetes`` Service VIP and its DNS names, so pods can verify it through the
Service), and one client cert in ``system:masters`` that the admin, the
controller-manager, the scheduler, kube-proxy and the kubelet share.  A single
identity is a simplification of a test harness (a real cluster gives each its own
and turns on the Node authorizer); it does not change what pods or Argo see.
The service-account key pair signs the tokens pods get.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pki:
    dir: Path

    def path(self, name: str) -> Path:
        return self.dir / name

    @property
    def ca(self) -> Path:
        return self.path("ca.crt")


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _cert(subject: x509.Name, key, issuer: x509.Name, signer, *, ca: bool = False, server: bool = False,
          sans: list[x509.GeneralName] | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
    else:
        usage = [ExtendedKeyUsageOID.SERVER_AUTH] if server else [ExtendedKeyUsageOID.CLIENT_AUTH]
        b = b.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        b = b.add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return b.sign(signer, hashes.SHA256())


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def generate(directory: Path, *, gateway: str, service_vip: str, cluster_domain: str) -> Pki:
    """Write ca, apiserver, admin and service-account material under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory)
    ca_key, ca_name = _key(), _name("conveyor-test-cluster-ca")
    ca_cert = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    _write_key(ca_key, pki.path("ca.key"))
    _write_cert(ca_cert, pki.ca)

    dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", f"kubernetes.default.svc.{cluster_domain}",
           "localhost"]
    ips = [gateway, service_vip, "127.0.0.1"]
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    for name, subject, server, extra in (
        ("apiserver", _name("kube-apiserver"), True, sans),
        ("admin", _name("conveyor-admin", "system:masters"), False, None),
    ):
        key = _key()
        _write_key(key, pki.path(f"{name}.key"))
        _write_cert(_cert(subject, key, ca_name, ca_key, server=server, sans=extra), pki.path(f"{name}.crt"))

    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(sa, pki.path("sa.key"))
    pki.path("sa.pub").write_bytes(sa.public_key().public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    return pki


def write_kubeconfig(pki: Pki, server: str, path: Path) -> Path:
    """An admin kubeconfig with absolute paths to the certs (kubectl, the kubernetes client, Argo)."""
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "conveyor-test", "cluster": {"server": server, "certificate-authority": str(pki.ca)}}],
        "users": [{"name": "admin", "user": {"client-certificate": str(pki.path("admin.crt")),
                                             "client-key": str(pki.path("admin.key"))}}],
        "contexts": [{"name": "conveyor-test", "context": {"cluster": "conveyor-test", "user": "admin"}}],
        "current-context": "conveyor-test",
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    path.chmod(0o600)
    return path
