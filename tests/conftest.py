"""Root conftest: makes the real-service fixtures of ``tests/services`` available to every test.

They are loaded as plugins (rather than star-imported) so each service keeps its
own module and pytest reports fixture origins correctly.  Service fixtures are
session-scoped and start lazily: a test run that uses none of them starts nothing.
"""

pytest_plugins = [
    "tests.services.common",
    "tests.services.postgres",
    "tests.services.s3",
    "tests.services.gcs",
    "tests.services.webhook",
    "tests.services.prometheus",
]
