"""`ImageRegistry`: where `conveyor image build --push` sends task images (profile key `image_registry`).

Why a registry per stack: task pods run an image built from the pipeline's own packages (no
`pip install` at pod start), so the image is part of the result. Tags are immutable (a tag always
names the bytes that produced a cached result), images are scanned on push, and a lifecycle rule
bounds what old images cost. Only the identities that actually pull (the nodes that run team pods
and the workflow identity) get read access; nothing is public.
On an existing cluster nothing is created: `image_registry` in stack config names the registry
the cluster can already pull from (for the local test cluster: images imported into containerd).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from components.config import StackConfig, type_token

# Untagged layers left by re-pushes go after a week; the newest tagged images stay.
UNTAGGED_EXPIRE_DAYS = 7
KEEP_TAGGED_IMAGES = 200


def lifecycle_policy() -> str:
    """ECR lifecycle rules; a function so policy tests and the component read the same document."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "expire untagged images",
                    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                  "countUnit": "days", "countNumber": UNTAGGED_EXPIRE_DAYS},
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": "keep the newest tagged images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
                                  "countNumber": KEEP_TAGGED_IMAGES},
                    "action": {"type": "expire"},
                },
            ]
        }  # fmt: skip
    )


class ImageRegistry(pulumi.ComponentResource):
    """Exposes `url` (the `image_registry` profile value) or None on an existing cluster without one."""

    def __init__(
        self,
        name: str,
        cfg: StackConfig,
        pullers: list[pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(type_token("ImageRegistry"), name, None, opts)
        child = pulumi.ResourceOptions(parent=self, protect=cfg.protect)
        self.url: pulumi.Output[str] | None
        if cfg.cloud == "aws":
            self.url = self._ecr(name, cfg, pullers, child)
        elif cfg.cloud == "gcp":
            self.url = self._artifact_registry(name, cfg, pullers, child)
        else:
            self.url = pulumi.Output.from_input(cfg.image_registry) if cfg.image_registry else None
        self.register_outputs({"url": self.url})

    def _ecr(self, name, cfg: StackConfig, pullers, child) -> pulumi.Output[str]:
        repo = aws.ecr.Repository(
            f"{name}-tasks", name=f"{cfg.name}/conveyor-task", image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS"}],
            force_delete=cfg.force_destroy, opts=child,
        )  # fmt: skip
        aws.ecr.LifecyclePolicy(f"{name}-tasks", repository=repo.name, policy=lifecycle_policy(), opts=child)
        pull = pulumi.Output.all(*pullers).apply(
            lambda arns: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "conveyor-pull",
                            "Effect": "Allow",
                            "Principal": {"AWS": sorted(arns)},
                            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                       "ecr:BatchCheckLayerAvailability"],
                        }  # fmt: skip
                    ],
                }
            )
        )
        aws.ecr.RepositoryPolicy(f"{name}-tasks-pull", repository=repo.name, policy=pull, opts=child)
        return repo.repository_url.apply(lambda url: url.rsplit("/conveyor-task", 1)[0])

    def _artifact_registry(self, name, cfg: StackConfig, pullers, child) -> pulumi.Output[str]:
        repo = gcp.artifactregistry.Repository(
            f"{name}-tasks", project=cfg.gcp_project, location=cfg.region, repository_id=f"{cfg.name}-tasks",
            format="DOCKER", docker_config={"immutable_tags": True},
            cleanup_policies=[
                {"id": "expire-untagged", "action": "DELETE",
                 "condition": {"tag_state": "UNTAGGED", "older_than": f"{UNTAGGED_EXPIRE_DAYS * 86400}s"}},
                {"id": "keep-newest", "action": "KEEP",
                 "most_recent_versions": {"keep_count": KEEP_TAGGED_IMAGES}},
            ],
            opts=child,
        )  # fmt: skip
        for i, member in enumerate(pullers):
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-tasks-pull-{i}", project=cfg.gcp_project, location=cfg.region,
                repository=repo.repository_id, role="roles/artifactregistry.reader", member=member, opts=child,
            )  # fmt: skip
        # Scan on push: the Container Scanning API scans every pushed image of the project.
        gcp.projects.Service(f"{name}-scanning", project=cfg.gcp_project, service="containerscanning.googleapis.com",
                             disable_on_destroy=False, opts=child)  # fmt: skip
        return repo.repository_id.apply(lambda rid: f"{cfg.region}-docker.pkg.dev/{cfg.gcp_project}/{rid}")
