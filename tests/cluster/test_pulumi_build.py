"""The engine build's pure parts: the CLI wrapper module, the provider's go.mod rewrite, the env."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cluster import pins, pulumi_build

CLI_GOMOD = """module github.com/pulumi/pulumi/pkg/v3

go 1.26.6

replace github.com/pulumi/pulumi/sdk/v3 => ../sdk

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e

require (
\tgithub.com/pulumi/pulumi/sdk/v3 v3.276.0
)
"""

PROVIDER_GOMOD = """module github.com/pulumi/pulumi-kubernetes/provider/v4

go 1.24.7

replace github.com/pulumi/pulumi-kubernetes/sdk/v4 => ../sdk

require (
\tgithub.com/pulumi/pulumi-kubernetes/sdk/v4 v4.24.0 // indirect
\tgithub.com/pulumi/pulumi/pkg/v3 v3.215.0
)
"""


def test_replaces_reads_single_lines_and_blocks():
    gomod = CLI_GOMOD + "replace (\n\ta/b v1.0.0 => c/d v2.0.0 // why\n\te/f => ./local\n)\n"
    assert pulumi_build.replaces(gomod) == [
        ("github.com/pulumi/pulumi/sdk/v3", "../sdk", ""),
        ("github.com/atotto/clipboard", "github.com/tgummerer/clipboard", "v0.0.0-20241001131231-d02d263e614e"),
        ("a/b", "c/d", "v2.0.0"),
        ("e/f", "./local", ""),
    ]


def test_cli_wrapper_keeps_remote_replaces_and_drops_local_ones():
    got = pulumi_build.wrapper_gomod(pins.PULUMI, CLI_GOMOD)
    assert "require github.com/pulumi/pulumi/pkg/v3 v3.276.0" in got
    assert "go 1.26.6" in got
    assert ("replace github.com/atotto/clipboard => github.com/tgummerer/clipboard "
            "v0.0.0-20241001131231-d02d263e614e") in got  # fmt: skip
    assert "../sdk" not in got


def test_provider_copy_requires_the_release_instead_of_the_local_sdk():
    got = pulumi_build.pin_local_replaces(PROVIDER_GOMOD, {"github.com/pulumi/pulumi-kubernetes/sdk/v4": "v4.25.0"})
    assert "../sdk" not in got
    assert "\tgithub.com/pulumi/pulumi-kubernetes/sdk/v4 v4.25.0 // indirect" in got
    assert "github.com/pulumi/pulumi/pkg/v3 v3.215.0" in got


def test_a_local_replace_without_a_pinned_release_is_an_error():
    with pytest.raises(ValueError, match=r"pulumi-kubernetes/sdk/v4 with the local path \.\./sdk"):
        pulumi_build.pin_local_replaces(PROVIDER_GOMOD, {})


def test_the_provider_plugin_version_is_the_python_sdk_pin():
    """The engine resolves the plugin by the version the Python package asks for: they must agree."""
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert f'"pulumi-kubernetes=={pins.PULUMI_KUBERNETES_RELEASE}"' in pyproject
    assert pins.PULUMI_KUBERNETES.ldflags_x == {
        "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version": pins.PULUMI_KUBERNETES_RELEASE
    }


def test_engine_env_is_offline_and_puts_our_binaries_first(tmp_path, monkeypatch):
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "must-not-leak")
    eng = pulumi_build.Engine(pulumi=tmp_path / "pulumi", provider=tmp_path / "p", path=(tmp_path / "a", tmp_path / "b"))
    env = eng.env(tmp_path / "home", "pass", venv_bin=tmp_path / "venv")
    assert env["PATH"].startswith(f"{tmp_path / 'a'}:{tmp_path / 'b'}:{tmp_path / 'venv'}:")
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PULUMI_HOME"] == str(tmp_path / "home")
    assert "PULUMI_ACCESS_TOKEN" not in env


def test_the_language_host_patch_applies_once_and_refuses_a_changed_source():
    main_go = 'func (host *h) RunPlugin(req *R) error {\n\tlogging.V(5).Infof("Attempting to run python plugin in %s", req.Program)\n'
    patched = pulumi_build.patch_langhost(main_go)
    assert patched.count("req = withProgramInfo(req)") == 1
    assert patched.index("withProgramInfo") < patched.index("Attempting")
    with pytest.raises(ValueError, match="RunPlugin's first line changed"):
        pulumi_build.patch_langhost("func RunPlugin() {}\n")
