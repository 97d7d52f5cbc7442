"""`MetadataDb`: Postgres for run metadata and the Argo workflow archive.

Why: metadata is the record of what ran and what it produced, so the database is private
(reachable only from the cluster), encrypted, backed up (14+ days with HA in prod) and protected
from `pulumi destroy` in prod. Its password is generated once (`GeneratedSecret`) and only ever travels
as a Pulumi secret; `url` is the secret connection string the runtime reads.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components import k8s as kx
from components.config import StackConfig, type_token
from components.generated_secret import GeneratedSecret

DB_NAME = "conveyor"
DB_USER = "conveyor"
IN_CLUSTER_NAMESPACE = "conveyor-db"


class MetadataDb(pulumi.ComponentResource):
    """Exposes `host`, `port`, `database`, `username`, `password` (secret) and `url` (secret)."""

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        cluster: object,
        store: object | None = None,
        password: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("MetadataDb"), name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._data = pulumi.ResourceOptions(parent=self, protect=cfg.protect)
        external = cfg.cloud == "existing" and cfg.database.mode == "external"
        if external and password is None:
            raise ValueError("conveyor:database_password: not set; database.mode='external' needs the password of "
                             "your Postgres (pulumi config set --secret database_password ...)")
        if not external:
            password = GeneratedSecret(f"{name}-password", length=32, opts=self._child).result
        self.password = pulumi.Output.secret(password)
        self.database, self.username, self.port = DB_NAME, DB_USER, cfg.database.port
        self.sslmode = cfg.database.sslmode
        if external:  # your own Postgres: nothing is installed, the URL points at it
            self.host = pulumi.Output.from_input(cfg.database.host)
        elif cfg.cloud == "aws":
            self.host = self._rds(name, cfg, cluster.aws)
        elif cfg.cloud == "gcp":
            self.host = self._cloudsql(name, cfg, cluster.gcp)
        else:
            self.host = self._cnpg(name, cfg, cluster.provider, store)
        self.url = pulumi.Output.secret(
            pulumi.Output.all(self.host, self.password).apply(
                lambda a: f"postgresql://{DB_USER}:{a[1]}@{a[0]}:{self.port}/{DB_NAME}?sslmode={self.sslmode}"
            )
        )
        self.register_outputs({"host": self.host, "url": self.url})

    def _rds(self, name: str, cfg: StackConfig, eks) -> pulumi.Output[str]:
        subnets = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=eks.private_subnet_ids, opts=self._child)
        sg = aws.ec2.SecurityGroup(f"{name}-db", vpc_id=eks.vpc_id, description="metadata Postgres: cluster only",
                                   opts=self._child)  # fmt: skip
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-db-from-cluster", security_group_id=sg.id, referenced_security_group_id=eks.cluster_security_group_id,
            ip_protocol="tcp", from_port=5432, to_port=5432, description="Postgres from EKS nodes and pods",
            opts=self._child,
        )  # fmt: skip
        params = aws.rds.ParameterGroup(
            f"{name}-params", family="postgres16",
            parameters=[{"name": "rds.force_ssl", "value": "1"}, {"name": "log_min_duration_statement", "value": "1000"}],
            opts=self._child,
        )  # fmt: skip
        key = aws.kms.Key(
            f"{name}-db", description="conveyor metadata DB", enable_key_rotation=True, opts=self._data
        )
        db = aws.rds.Instance(
            f"{name}-postgres",
            identifier_prefix=f"{cfg.name}-",
            engine="postgres",
            engine_version=cfg.versions.rds_postgres,
            instance_class=cfg.db_instance_class,
            allocated_storage=cfg.db_storage_gb,
            max_allocated_storage=cfg.db_storage_gb * 4,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_name=DB_NAME,
            username=DB_USER,
            password=self.password,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[sg.id],
            parameter_group_name=params.name,
            publicly_accessible=False,
            multi_az=cfg.high_availability,
            backup_retention_period=cfg.backup_retention_days,
            backup_window="03:00-04:00",
            copy_tags_to_snapshot=True,
            deletion_protection=cfg.deletion_protection,
            skip_final_snapshot=cfg.environment == "dev",
            final_snapshot_identifier=None
            if cfg.environment == "dev"
            else f"{cfg.name}-{cfg.environment}-final",
            iam_database_authentication_enabled=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            auto_minor_version_upgrade=True,
            enabled_cloudwatch_logs_exports=["postgresql"],
            opts=self._data,
        )
        return db.address

    def _cloudsql(self, name: str, cfg: StackConfig, gke) -> pulumi.Output[str]:
        project = cfg.gcp_project
        peering_range = gcp.compute.GlobalAddress(
            f"{name}-peering", project=project, purpose="VPC_PEERING", address_type="INTERNAL", prefix_length=16,
            network=gke.network_id, opts=self._child,
        )  # fmt: skip
        peering = gcp.servicenetworking.Connection(
            f"{name}-peering", network=gke.network_id, service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[peering_range.name], opts=self._child,
        )  # fmt: skip
        instance = gcp.sql.DatabaseInstance(
            f"{name}-postgres",
            project=project,
            region=cfg.region,
            database_version=cfg.versions.cloudsql_postgres,
            deletion_protection=cfg.deletion_protection,
            settings={
                "tier": cfg.db_instance_class,
                "edition": "ENTERPRISE",
                "availability_type": "REGIONAL" if cfg.high_availability else "ZONAL",
                "disk_size": cfg.db_storage_gb,
                "disk_autoresize": True,
                "deletion_protection_enabled": cfg.deletion_protection,
                "ip_configuration": {
                    "ipv4_enabled": False,
                    "private_network": gke.network_id,
                    "ssl_mode": "ENCRYPTED_ONLY",
                },
                "backup_configuration": {
                    "enabled": True,
                    "point_in_time_recovery_enabled": True,
                    "start_time": "03:00",
                    "transaction_log_retention_days": min(7, max(1, cfg.backup_retention_days)),
                    "backup_retention_settings": {"retained_backups": max(1, cfg.backup_retention_days)},
                },
                "insights_config": {"query_insights_enabled": True},
                "database_flags": [{"name": "log_min_duration_statement", "value": "1000"}],
            },  # fmt: skip
            opts=pulumi.ResourceOptions(parent=self, protect=cfg.protect, depends_on=[peering]),
        )
        gcp.sql.Database(
            f"{name}-db", project=project, instance=instance.name, name=DB_NAME, opts=self._child
        )
        gcp.sql.User(f"{name}-user", project=project, instance=instance.name, name=DB_USER, password=self.password,
                     opts=self._child)  # fmt: skip
        return instance.private_ip_address

    def _cnpg(self, name: str, cfg: StackConfig, provider: k8s.Provider, store: object) -> pulumi.Output[str]:
        """CloudNativePG operator + one Cluster CR; the app secret reuses our random password.

        Backups: barman to the S3-compatible object store (base backup daily + WAL archiving),
        kept `backup_retention_days`.
        """
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        op_ns = kx.namespace(f"{name}-cnpg-ns", "cnpg-system", "restricted", k8s_opts)
        operator = kx.install(
            f"{name}-cnpg", cfg.versions.cloudnative_pg, cfg.source("cloudnative_pg"), "cnpg-system",
            {"podSecurityContext": kx.POD_SECURITY_CONTEXT, "containerSecurityContext": kx.CONTAINER_SECURITY_CONTEXT,
             "resources": kx.resources("100m", "200Mi", "1", "512Mi"), "monitoring": {"podMonitorEnabled": False}},
            pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[op_ns]),
        )  # fmt: skip
        db_ns = kx.namespace(f"{name}-db-ns", IN_CLUSTER_NAMESPACE, "restricted", k8s_opts)
        in_ns = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=kx.after(db_ns, operator))
        app_secret = k8s.core.v1.Secret(
            f"{name}-app-secret", metadata={"name": "conveyor-db-app", "namespace": IN_CLUSTER_NAMESPACE},
            type="kubernetes.io/basic-auth", string_data={"username": DB_USER, "password": self.password}, opts=in_ns,
        )  # fmt: skip
        backup_secret = k8s.core.v1.Secret(
            f"{name}-backup-credentials", metadata={"name": "conveyor-db-backup", "namespace": IN_CLUSTER_NAMESPACE},
            string_data={"ACCESS_KEY_ID": store.access_key_id, "ACCESS_SECRET_KEY": store.secret_access_key},
            opts=in_ns,
        )  # fmt: skip
        instances = 3 if cfg.high_availability else 1
        cluster = k8s.apiextensions.CustomResource(
            f"{name}-postgres",
            api_version="postgresql.cnpg.io/v1",
            kind="Cluster",
            metadata={"name": "conveyor-db", "namespace": IN_CLUSTER_NAMESPACE},
            spec={
                "instances": instances,
                "imageName": cfg.versions.postgres_image,
                "storage": {"size": f"{cfg.db_storage_gb}Gi"},
                "bootstrap": {
                    "initdb": {"database": DB_NAME, "owner": DB_USER, "secret": {"name": "conveyor-db-app"}}
                },
                "postgresql": {"parameters": {"log_min_duration_statement": "1000"}},
                "resources": kx.resources("250m", "512Mi", "2", "2Gi"),
                "enablePDB": instances > 1,
                "backup": {
                    "retentionPolicy": f"{cfg.backup_retention_days}d",
                    "barmanObjectStore": {
                        "destinationPath": store.bucket.apply(lambda b: f"s3://{b}/backups/metadata-db"),
                        "endpointURL": store.endpoint,
                        "s3Credentials": {
                            "accessKeyId": {"name": "conveyor-db-backup", "key": "ACCESS_KEY_ID"},
                            "secretAccessKey": {"name": "conveyor-db-backup", "key": "ACCESS_SECRET_KEY"},
                        },
                    },
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[app_secret, backup_secret], protect=cfg.protect
            ),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-daily-backup",
            api_version="postgresql.cnpg.io/v1",
            kind="ScheduledBackup",
            metadata={"name": "conveyor-db-daily", "namespace": IN_CLUSTER_NAMESPACE},
            spec={
                "schedule": "0 0 3 * * *",
                "backupOwnerReference": "self",
                "cluster": {"name": "conveyor-db"},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[cluster]),
        )
        return pulumi.Output.from_input(f"conveyor-db-rw.{IN_CLUSTER_NAMESPACE}.svc")
