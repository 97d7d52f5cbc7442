"""Violating and compliant fixtures for the GKE, GCS and Cloud SQL rules (pulumi-gcp v10 type tokens)."""

from __future__ import annotations

from policy_harness import Case

GKE = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
GCS = "gcp:storage/bucket:Bucket"
GCS_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"
NODE_SA = "gke-nodes@conveyor.iam.gserviceaccount.com"

GKE_GOOD = {
    "privateClusterConfig": {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": False,
        "masterIpv4CidrBlock": "172.16.0.0/28",
    },
    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8", "displayName": "vpn"}]},
    "workloadIdentityConfig": {"workloadPool": "conveyor.svc.id.goog"},
    "removeDefaultNodePool": True,
    "initialNodeCount": 1,
    "databaseEncryption": {"state": "ENCRYPTED", "keyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
    "enableShieldedNodes": True,
}
SQL_GOOD = {
    "databaseVersion": "POSTGRES_16",
    "deletionProtection": True,
    "settings": {
        "tier": "db-custom-2-7680",
        "deletionProtectionEnabled": True,
        "ipConfiguration": {
            "ipv4Enabled": False,
            "privateNetwork": "projects/p/global/networks/vpc",
            "sslMode": "ENCRYPTED_ONLY",
        },
        "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True},
    },
}
GCS_GOOD = {
    "publicAccessPrevention": "enforced",
    "uniformBucketLevelAccess": True,
    "versioning": {"enabled": True},
}


def with_settings(**settings) -> dict:
    return {**SQL_GOOD, "settings": {**SQL_GOOD["settings"], **settings}}


CASES: list[Case] = [
    # gke-private-nodes
    Case("gke-private-nodes", GKE, GKE_GOOD, False, stack="dev-gcp"),
    Case("gke-private-nodes", GKE, {**GKE_GOOD, "privateClusterConfig": None}, True, says="public IPs"),
    # gke-master-authorized-networks
    Case("gke-master-authorized-networks", GKE, GKE_GOOD, False),
    Case(
        "gke-master-authorized-networks",
        GKE,
        {"privateClusterConfig": {"enablePrivateEndpoint": True}},
        False,
    ),
    Case(
        "gke-master-authorized-networks",
        GKE,
        {**GKE_GOOD, "masterAuthorizedNetworksConfig": None},
        True,
        says="any source",
    ),
    Case(
        "gke-master-authorized-networks",
        GKE,
        {**GKE_GOOD, "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}},
        True,
        says="0.0.0.0/0",
    ),
    # gke-workload-identity
    Case("gke-workload-identity", GKE, GKE_GOOD, False),
    Case("gke-workload-identity", GKE, {"enableAutopilot": True}, False),
    Case(
        "gke-workload-identity", GKE, {**GKE_GOOD, "workloadIdentityConfig": None}, True, says="workloadPool"
    ),
    # gke-node-service-account
    Case("gke-node-service-account", GKE, GKE_GOOD, False),
    Case("gke-node-service-account", POOL, {"nodeConfig": {"serviceAccount": NODE_SA}}, False),
    Case(
        "gke-node-service-account", POOL, {"nodeConfig": {"machineType": "n2-standard-4"}}, True, says="unset"
    ),
    Case(
        "gke-node-service-account",
        POOL,
        {"nodeConfig": {"serviceAccount": "123-compute@developer.gserviceaccount.com"}},
        True,
        says="default compute",
    ),
    Case("gke-node-service-account", GKE, {"initialNodeCount": 1}, True, says="default node pool"),
    # gke-secrets-encryption
    Case("gke-secrets-encryption", GKE, GKE_GOOD, False),
    Case(
        "gke-secrets-encryption",
        GKE,
        {**GKE_GOOD, "databaseEncryption": {"state": "DECRYPTED"}},
        True,
        says="ENCRYPTED",
    ),
    # gke-legacy-abac-disabled
    Case("gke-legacy-abac-disabled", GKE, GKE_GOOD, False),
    Case(
        "gke-legacy-abac-disabled", GKE, {**GKE_GOOD, "enableLegacyAbac": True}, True, says="enableLegacyAbac"
    ),
    # gke-shielded-nodes
    Case("gke-shielded-nodes", GKE, {}, False),
    Case("gke-shielded-nodes", GKE, {"enableShieldedNodes": False}, True, says="enableShieldedNodes"),
    Case(
        "gke-shielded-nodes",
        POOL,
        {"nodeConfig": {"shieldedInstanceConfig": {"enableIntegrityMonitoring": False}}},
        True,
        says="IntegrityMonitoring",
    ),
    # gcs-public-access-prevention
    Case("gcs-public-access-prevention", GCS, GCS_GOOD, False),
    Case("gcs-public-access-prevention", GCS, {"uniformBucketLevelAccess": True}, True, says="'inherited'"),
    Case(
        "gcs-public-access-prevention",
        GCS_MEMBER,
        {
            "bucket": "b",
            "role": "roles/storage.objectViewer",
            "member": "serviceAccount:wf@p.iam.gserviceaccount.com",
        },
        False,
    ),
    Case(
        "gcs-public-access-prevention",
        GCS_MEMBER,
        {"bucket": "b", "role": "roles/storage.objectViewer", "member": "allUsers"},
        True,
        says="allUsers",
    ),
    # gcs-uniform-access
    Case("gcs-uniform-access", GCS, GCS_GOOD, False),
    Case(
        "gcs-uniform-access",
        GCS,
        {"publicAccessPrevention": "enforced"},
        True,
        says="uniformBucketLevelAccess",
    ),
    # gcs-versioning
    Case("gcs-versioning", GCS, GCS_GOOD, False),
    Case("gcs-versioning", GCS, {"versioning": {"enabled": False}}, True, says="versioning"),
    # cloudsql-no-public-ip
    Case("cloudsql-no-public-ip", SQL, SQL_GOOD, False),
    Case("cloudsql-no-public-ip", SQL, {"settings": {"tier": "db-f1-micro"}}, True, says="public IP"),
    Case(
        "cloudsql-no-public-ip",
        SQL,
        with_settings(ipConfiguration={"ipv4Enabled": False, "authorizedNetworks": [{"value": "0.0.0.0/0"}]}),
        True,
        says="0.0.0.0/0",
    ),
    # cloudsql-ssl-required
    Case("cloudsql-ssl-required", SQL, SQL_GOOD, False),
    Case(
        "cloudsql-ssl-required",
        SQL,
        with_settings(ipConfiguration={"ipv4Enabled": False}),
        True,
        says="unset",
    ),
    Case(
        "cloudsql-ssl-required",
        SQL,
        with_settings(ipConfiguration={"sslMode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED"}),
        True,
        says="ENCRYPTED_ONLY",
    ),
    # cloudsql-backups-pitr
    Case("cloudsql-backups-pitr", SQL, SQL_GOOD, False),
    Case("cloudsql-backups-pitr", SQL, {**SQL_GOOD, "masterInstanceName": "primary", "settings": {}}, False),
    Case(
        "cloudsql-backups-pitr",
        SQL,
        with_settings(backupConfiguration={"enabled": True}),
        True,
        says="pointInTimeRecoveryEnabled",
    ),
    Case(
        "cloudsql-backups-pitr",
        SQL,
        {"databaseVersion": "MYSQL_8_0", "settings": {}},
        True,
        says="binaryLogEnabled",
    ),
    # cloudsql-deletion-protection
    Case("cloudsql-deletion-protection", SQL, SQL_GOOD, False, stack="prod-gcp"),
    Case(
        "cloudsql-deletion-protection", SQL, {**SQL_GOOD, "deletionProtection": False}, False, stack="dev-gcp"
    ),
    Case(
        "cloudsql-deletion-protection",
        SQL,
        {**SQL_GOOD, "deletionProtection": False},
        True,
        stack="prod-gcp",
        says="pulumi destroy",
    ),
    Case(
        "cloudsql-deletion-protection",
        SQL,
        with_settings(deletionProtectionEnabled=False),
        True,
        stack="prod-gcp",
        says="deletionProtectionEnabled",
    ),
]
