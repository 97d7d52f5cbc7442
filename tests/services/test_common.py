"""Tests of the shared fixture machinery: the skip-or-fail policy, ports, process logs."""

import sys

import pytest

from tests.services import common


def test_unavailable_skips_by_default(monkeypatch):
    monkeypatch.delenv(common.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="widget: binary missing"):
        common.unavailable("widget: binary missing", "log line")


def test_unavailable_fails_when_services_are_required(monkeypatch):
    monkeypatch.setenv(common.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception) as exc:
        common.unavailable("widget: binary missing", "the server said: port in use")
    assert "widget: binary missing" in str(exc.value)
    assert "the server said: port in use" in str(exc.value)  # the log tail is shown


def test_free_port_is_bindable_and_closed():
    port = common.free_port()
    assert not common.port_open(port)


def test_service_process_keeps_log_and_reports_early_exit(tmp_path):
    proc = common.ServiceProcess("crasher", [sys.executable, "-c", "print('boom: bad config'); raise SystemExit(3)"],
                                 tmp_path)
    with pytest.raises(RuntimeError, match="exited with code 3"):
        proc.start(ready=lambda: False, timeout=10)
    assert "boom: bad config" in proc.log_tail()


def test_find_binary_returns_none_for_missing_without_auto_install(monkeypatch):
    monkeypatch.delenv(common.AUTO_INSTALL_ENV, raising=False)
    assert common.find_binary("conveyor-no-such-binary", "no-such-package") is None
    assert common.find_binary("sh", "dash") is not None
