"""The twilio client's requests session reads the environment once per host, and still
honours it: a proxy set for the process is used, a host in NO_PROXY goes direct."""

from __future__ import annotations

import pytest

from hotline.sms.sender import _BaseUrlHttpClient


def test_the_proxy_of_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    client = _BaseUrlHttpClient(None, 5.0)
    assert client.session is not None
    merge = client.session.merge_environment_settings

    first = merge("https://api.twilio.com/2010-04-01/x", {}, None, None, None)
    assert first["proxies"].get("https") == "http://proxy.example:3128"
    first["proxies"].clear()  # a caller changing its copy changes no one else's
    again = merge("https://api.twilio.com/2010-04-01/y", {}, None, None, None)
    assert again["proxies"].get("https") == "http://proxy.example:3128"
    direct = merge("https://direct.example/z", {}, None, None, None)
    assert "https" not in direct["proxies"]


def test_the_environment_is_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    client = _BaseUrlHttpClient(None, 5.0)
    assert client.session is not None
    merge = client.session.merge_environment_settings
    merge("https://api.twilio.com/a", {}, None, None, None)
    monkeypatch.setenv("HTTPS_PROXY", "http://late.example:3128")  # after the first send
    assert "https" not in merge("https://api.twilio.com/b", {}, None, None, None)["proxies"]
