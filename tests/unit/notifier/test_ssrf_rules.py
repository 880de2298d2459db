from __future__ import annotations

import ipaddress

import pytest

from services.notifier.errors import UnsafeTargetError
from services.notifier.ssrf import TargetPolicy, blocked_reason, legacy_ipv4, literal_address


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("8.8.8.8", "8.8.8.8"),
        ("example.com", None),
        ("0x7f.example", None),
        ("256.1.1.1", None),
        ("1.2.3.4.5", None),
        ("09.1.1.1", None),
    ],
)
def test_legacy_ipv4_forms(host: str, expected: str | None) -> None:
    parsed = legacy_ipv4(host)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.0.1",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "0.0.0.0",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
    ],
)
def test_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_allowed(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_literal_address_handles_brackets_and_zones() -> None:
    assert literal_address("[::ffff:127.0.0.1]") == ipaddress.ip_address("::ffff:127.0.0.1")
    assert literal_address("[fe80::1%25eth0]") == ipaddress.ip_address("fe80::1")


def test_allowlist_entries() -> None:
    policy = TargetPolicy.from_allowlist(["127.0.0.1/32", "::1", "hooks.local:8080"])
    policy.check_url("http://127.0.0.1:9999/x")
    policy.check_url("http://[::1]/x")
    policy.check_address("hooks.local", 8080, ipaddress.ip_address("10.0.0.5"))
    with pytest.raises(UnsafeTargetError):
        policy.check_address("hooks.local", 8081, ipaddress.ip_address("10.0.0.5"))
    with pytest.raises(UnsafeTargetError):
        policy.check_url("http://127.0.0.2/")
    with pytest.raises(ValueError, match="neither a CIDR"):
        TargetPolicy.from_allowlist(["not an entry"])


@pytest.mark.parametrize(
    "url",
    ["gopher://x.example/", "http:///nohost", "http://u:p@x.example/", "http://x/" + "a" * 2100],
)
def test_malformed_urls_refused(url: str) -> None:
    with pytest.raises(UnsafeTargetError):
        TargetPolicy().check_url(url)
