"""The cluster launcher configs pass Ray's own schema validation, offline: prepare_config only fills in
Ray's defaults from files, so no cloud or network is touched (any connection attempt fails the test)."""
import socket
from pathlib import Path

import click
import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def offline(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the config check tried to reach the network: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", ["cluster.yaml", "cluster-local.yaml"])
def test_the_config_passes_rays_schema(offline, name):
    validate_config(prepare_config(load(name)))


def test_the_cloud_config_has_a_cpu_head_and_autoscaling_gpu_workers(offline):
    config = prepare_config(load("cluster.yaml"))
    head = config["available_node_types"][config["head_node_type"]]
    workers = [t for name, t in config["available_node_types"].items() if name != config["head_node_type"]]
    assert head["resources"] == {"CPU": 0}  # no trial next to the driver
    assert len(workers) == 1 and workers[0]["resources"]["GPU"] >= 1
    assert 1 <= workers[0]["min_workers"] < workers[0]["max_workers"] <= config["max_workers"]
    assert any("pip install" in c and "~/hpo" in c for c in config["worker_setup_commands"])
    assert any("RAY_AUTH_MODE=token" in c for c in config["head_setup_commands"])


def test_every_key_of_the_cloud_config_is_commented():
    lines = [line for line in (ROOT / "cluster.yaml").read_text().splitlines() if line.strip()]
    keys = [(n, line) for n, line in enumerate(lines)
            if not line.lstrip().startswith(("#", "-")) and ":" in line.split("#")[0]]
    assert len(keys) > 30
    for number, line in keys:
        assert lines[number - 1].lstrip().startswith("#"), f"no comment above the key {line.strip()!r}"


def test_rays_schema_catches_what_the_local_provider_refuses(offline):
    bad = load("cluster-local.yaml")
    bad["available_node_types"] = {"gpu": {"resources": {"GPU": 1}, "node_config": {}}}
    with pytest.raises(click.ClickException, match="available_node_types is not supported"):
        prepare_config(bad)
    fractional = load("cluster.yaml")
    fractional["available_node_types"]["worker.gpu"]["resources"]["GPU"] = 0.5
    with pytest.raises(Exception, match="0.5"):
        validate_config(prepare_config(fractional))
