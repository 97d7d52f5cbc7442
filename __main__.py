"""conveyor platform program: stack config -> Platform component -> the `profile` output.

Wiring only. Everything that decides *what* to create lives in `components/`; the contract with
ML teams is the `profile` export (keys fixed by ARCHITECTURE.md; kubeconfig and metadata_url are
secrets). Hand it over with `pulumi stack output --json --show-secrets profile > profile.json`.
"""

import pulumi

from components.config import CONFIG_NAMESPACE, StackConfig
from components.platform import Platform, PlatformSecrets

config = pulumi.Config(CONFIG_NAMESPACE)
stack_config = StackConfig.from_pulumi(config)
platform = Platform(
    "conveyor",
    stack_config,
    secrets=PlatformSecrets(
        kubeconfig=config.get_secret("kubeconfig"),
        slack_webhook_url=config.get_secret("slack_webhook_url"),
        object_store_secret_access_key=config.get_secret("object_store_secret_access_key"),
        database_password=config.get_secret("database_password"),
    ),
)
pulumi.export("profile", platform.profile)
pulumi.export("team_profiles", platform.team_profiles)
