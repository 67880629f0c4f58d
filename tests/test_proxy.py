"""Who the client is, and whether it came over HTTPS: X-Forwarded-For/-Proto count only from
the trusted proxies (`create_app(trusted_proxies=...)`, `caseframe serve --proxy`)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from caseframe.errors import InvalidInput
from caseframe.web import create_app
from caseframe.web.app import check_proxies

PASSWORD = "coder-pass-1"


@pytest.fixture
def team(tmp_path):
    from caseframe.api import Project

    project = Project.init(tmp_path / "proj")
    project.add_user("carl", PASSWORD, "coder")
    project.add_user("olga", "owner-pass-1", "owner")
    yield project
    project.close()


def attempt(client: TestClient, password: str, forwarded: dict[str, str] | None = None):
    headers = forwarded or {}
    form = client.get("/login", headers=headers).text
    token = re.search(r'name="csrf-token" content="([^"]*)"', form)[1]
    return client.post(
        "/login",
        data={"name": "carl", "password": password, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def test_spoofed_forwarded_for_from_an_untrusted_client_is_ignored(team):
    app = create_app(project=team, login_attempts=3, login_window=60)
    client = TestClient(app, client=("203.0.113.5", 40000))
    for i in range(3):
        r = attempt(client, "wrong-password", {"X-Forwarded-For": f"198.51.100.{i}"})
        assert r.status_code == 401
    r = attempt(client, PASSWORD, {"X-Forwarded-For": "198.51.100.99"})
    assert r.status_code == 429  # all four came from 203.0.113.5, whatever the header said
    other = TestClient(app, client=("203.0.113.6", 40000))
    assert attempt(other, PASSWORD, {"X-Forwarded-For": "203.0.113.5"}).status_code == 303
    assert [s.client for s in team.web_sessions("carl")] == ["203.0.113.6"]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(team):
    app = create_app(project=team, login_attempts=3, login_window=60, trusted_proxies=["10.0.0.2"])
    proxy = TestClient(app, client=("10.0.0.2", 50000))
    for _ in range(3):
        r = attempt(proxy, "wrong-password", {"X-Forwarded-For": "198.51.100.7"})
        assert r.status_code == 401
    assert attempt(proxy, PASSWORD, {"X-Forwarded-For": "198.51.100.7"}).status_code == 429
    # another client behind the same proxy is not held up by the first one's failures
    assert attempt(proxy, PASSWORD, {"X-Forwarded-For": "198.51.100.8"}).status_code == 303
    # a client cannot hide behind an address it puts in front: the proxy appends the real one
    chained = {"X-Forwarded-For": "192.0.2.1, 198.51.100.7"}
    assert attempt(proxy, PASSWORD, chained).status_code == 429
    assert [s.client for s in team.web_sessions("carl")] == ["198.51.100.8"]


def test_a_trusted_network(team):
    app = create_app(project=team, trusted_proxies=["10.0.0.0/24"])
    proxy = TestClient(app, client=("10.0.0.77", 50000))
    assert attempt(proxy, PASSWORD, {"X-Forwarded-For": "198.51.100.3"}).status_code == 303
    assert team.web_sessions("carl")[0].client == "198.51.100.3"


def cookie_and_hsts(response) -> tuple[bool, str | None]:
    cookie = response.headers["set-cookie"].lower()
    return "secure" in [p.strip() for p in cookie.split(";")], response.headers.get(
        "strict-transport-security"
    )


def test_secure_cookie_and_hsts_over_https_through_a_trusted_proxy(team):
    app = create_app(project=team, trusted_proxies=["10.0.0.2"])
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}
    proxy = TestClient(app, client=("10.0.0.2", 50000))
    form = proxy.get("/login", headers=https)
    secure, hsts = cookie_and_hsts(form)
    assert secure and hsts and "max-age=" in hsts
    # the proxy speaks plain HTTP to the app; hand the (Secure) cookie on as a browser would
    # send it to the proxy over TLS
    cookie = form.headers["set-cookie"].split(";")[0].split("=", 1)
    proxy.cookies.clear()
    proxy.cookies.set(cookie[0], cookie[1])
    token = re.search(r'name="csrf-token" content="([^"]*)"', form.text)[1]
    r = proxy.post(
        "/login",
        data={"name": "carl", "password": PASSWORD, "csrf_token": token},
        headers=https,
        follow_redirects=False,
    )
    assert r.status_code == 303
    secure, hsts = cookie_and_hsts(r)
    assert secure and hsts and r.headers["set-cookie"].startswith("caseframe_session=s.")
    # the same header from a client that is not the proxy changes nothing
    stranger = TestClient(app, client=("203.0.113.5", 40000))
    r = attempt(stranger, PASSWORD, https)
    assert r.status_code == 303 and cookie_and_hsts(r) == (False, None)
    # plain HTTP through the proxy: no Secure flag, no HSTS
    plain = TestClient(app, client=("10.0.0.2", 50001))
    r = attempt(plain, PASSWORD, {"X-Forwarded-For": "1.2.3.4"})
    assert r.status_code == 303 and cookie_and_hsts(r) == (False, None)


def test_secure_cookie_and_hsts_when_served_over_https_directly(team):
    app = create_app(project=team)
    client = TestClient(app, base_url="https://testserver")
    r = attempt(client, PASSWORD)
    assert r.status_code == 303
    secure, hsts = cookie_and_hsts(r)
    assert secure and hsts
    assert "strict-transport-security" not in TestClient(app).get("/login").headers


def test_proxy_addresses_are_checked(team, capsys):
    assert check_proxies(["127.0.0.1", " ::1", "10.0.0.0/8", ""]) == [
        "127.0.0.1",
        "::1",
        "10.0.0.0/8",
    ]
    with pytest.raises(InvalidInput, match="not an IP address"):
        check_proxies(["proxy.example.org"])
    from caseframe.cli.main import run

    assert run(["serve", str(team.root), "--proxy", "localhost,10.0.0.1"]) == 1
    assert "'localhost' is not an IP address" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_caseframe_serve_does_not_trust_forwarded_headers_from_loopback(team):
    """The attack from issue 13: wrong passwords with a new X-Forwarded-For each time, from
    127.0.0.1, used to be counted per header value. Now they count against 127.0.0.1."""
    import httpx

    port = free_port()
    cli = "from caseframe.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", cli, "serve", str(team.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/login", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "caseframe serve did not start"
                time.sleep(0.3)
        statuses = []
        with httpx.Client(base_url=base, timeout=60) as client:
            for i in range(7):
                form = client.get("/login").text
                token = re.search(r'name="csrf-token" content="([^"]*)"', form)[1]
                last = i == 6
                r = client.post(
                    "/login",
                    data={
                        "name": "carl",
                        "password": PASSWORD if last else "wrong-password",
                        "csrf_token": token,
                    },
                    headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Forwarded-Proto": "https"},
                )
                statuses.append(r.status_code)
                assert "strict-transport-security" not in r.headers
        assert statuses == [401] * 5 + [429, 429]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _serve_args(argv: list[str]) -> dict:
    """Parse a `caseframe serve ...` command line with the real CLI (unknown options fail)."""
    import typer.main

    from caseframe.cli.app import app, load_commands

    assert argv[:2] == ["caseframe", "serve"], argv
    load_commands(("serve",))
    command = typer.main.get_command(app).commands["serve"]
    return command.make_context("serve", list(argv[2:])).params


def test_the_deploy_files_run_serve_with_options_that_exist():
    """docs/deploy.md's unit, image and compose file start the server with real options and
    name the proxy that is really in front of it."""
    import json
    import shlex
    from pathlib import Path

    import yaml

    deploy = Path(__file__).resolve().parents[1] / "deploy"
    unit = (deploy / "caseframe.service").read_text(encoding="utf-8")
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    argv = shlex.split(exec_start.removeprefix("ExecStart="))
    params = _serve_args(["caseframe", *argv[1:]])
    assert params["workers"] == 4 and params["host"] == "127.0.0.1"
    assert check_proxies(params["proxy"].split(",")) == ["127.0.0.1"]

    compose = yaml.safe_load((deploy / "compose.yaml").read_text(encoding="utf-8"))
    app_params = _serve_args(compose["services"]["app"]["command"])
    caddy = compose["services"]["proxy"]["networks"]["internal"]["ipv4_address"]
    assert app_params["proxy"] == caddy and app_params["workers"] == 4

    cmd = next(
        line for line in (deploy / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    assert _serve_args(json.loads(cmd.removeprefix("CMD ")))["proxy"] == caddy
    nginx = (deploy / "nginx.conf").read_text(encoding="utf-8")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
