"""The local executor: walks the DAG, packs resources, caches, retries and resumes; tasks run forked."""
