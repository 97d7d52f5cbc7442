"""The one task protocol, shared by the local scheduler, the pod entrypoint and submit-time resolution.

Split by responsibility (import the submodule you need):

- ``binding``  - ``bind_arguments`` (type checks, int->float), ``parse_cli_params``, ``coerce``;
- ``keys``     - ``task_key`` (component identity + parameters + artifact digests + env; version 2),
  ``uncacheable`` (final-status readers and ``side_effects`` components never hit);
- ``hits``     - ``verified`` (the verify-or-invalidate rule), ``mark_cached`` (the cached row);
- ``lease``    - ``LEASE_S``, ``Leases`` (claim, renew, hand back, release; errors by kind);
- ``waiter``   - ``CacheWaiter``: one thread waits for every key another owner holds;
- ``gate``     - ``CacheGate.decide`` -> ``Hit | Claimed | Wait`` (``acquire`` blocks: the pod);
- ``record``   - ``begin``, ``record_success`` (ONE transaction), ``record_attempt_failure``;
- ``messages`` - the typed ``TaskRequest`` / ``TaskResult`` (what request.json / result.json hold);
- ``codec``    - ``text_form``, ``artifact_ref`` / ``decode_artifact``, ``encode_spec`` /
  ``decode_spec``, ``new_run_id``.
"""
