"""Trakt device login and account linking against recorded/hand-written Trakt answers (issue 4)."""
import sqlite3

import pytest
import requests

from conftest import Stack, audit_until


@pytest.fixture(scope="module")
def member(catalog_stack):
    admin = requests.Session()
    _, asid = catalog_stack.login(*catalog_stack.admin, session=admin)
    r = admin.post(catalog_stack.url("/api/auth/users"), headers={"X-Session-Id": asid}, verify=False,
                   json={"email": "trakt-fan@home.lan", "password": "correct horse battery", "role": "user"})
    assert r.status_code in (201, 409)
    jar = requests.Session()
    _, sid = catalog_stack.login("trakt-fan@home.lan", "correct horse battery", session=jar)
    return jar, sid, admin, asid


def test_device_code(catalog_stack):
    r = catalog_stack.request("POST", "/api/auth/device/trakt")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["codeUrl"] == "https://trakt.tv/activate/77776C8D" and body["userCode"] == "77776C8D"
    assert body["expiresIn"] == 600 and body["interval"] == 5 and body["deviceCode"] and body["expiresAt"].endswith("Z")


def test_pending_is_reported_as_pending(catalog_stack, upstream):
    upstream.control(fail_status=400, fail_count=1, prefix="/trakt/oauth/device/token")
    r = catalog_stack.request("POST", "/api/auth/login/trakt", json={"deviceCode": "abc"})
    upstream.control()
    assert r.status_code == 200 and r.json() == {"success": False, "pending": True}


def test_unlinked_account_cannot_log_in_then_links_and_logs_in(catalog_stack, member):
    jar, sid, admin, asid = member
    refused = catalog_stack.request("POST", "/api/auth/login/trakt", json={"deviceCode": "abc"})
    assert refused.status_code == 401 and refused.json() == {"error": "Trakt account not associated with a user"}
    before = jar.get(catalog_stack.url("/api/trakt/association"), headers={"X-Session-Id": sid}, verify=False).json()
    assert before == {"associated": False, "traktUsername": None, "traktSlug": None}

    linked = jar.post(catalog_stack.url("/api/trakt/auth/device/check"), headers={"X-Session-Id": sid},
                      json={"deviceCode": "abc"}, verify=False)
    assert linked.status_code == 200, linked.text
    body = linked.json()
    assert body["success"] is True and body["user"]["email"] == "trakt-fan@home.lan" and body["session"] != sid
    assert len(linked.raw.headers.getlist("Set-Cookie")) == 2
    after = jar.get(catalog_stack.url("/api/trakt/association"), headers={"X-Session-Id": sid}, verify=False).json()
    assert after == {"associated": True, "traktUsername": "cinephile", "traktSlug": "cinephile"}

    db = sqlite3.connect(catalog_stack.data_dir / "miauflix.sqlite")
    access, refresh = db.execute("SELECT accessToken, refreshToken FROM trakt_users WHERE traktSlug = 'cinephile'").fetchone()
    assert "PLAINTEXT" not in access and "PLAINTEXT" not in refresh, "tokens are encrypted at rest"

    login = catalog_stack.request("POST", "/api/auth/login/trakt", json={"deviceCode": "abc"})
    assert login.status_code == 200 and login.json()["user"]["email"] == "trakt-fan@home.lan"
    assert login.raw.headers.getlist("Set-Cookie")[0].startswith("__miauflix_at_" + login.json()["session"])
    audit = audit_until(admin, catalog_stack, asid, "eventType=LOGIN&user=trakt-fan@home.lan",
                        lambda b: any("Trakt" in item["description"] for item in b["items"]))
    assert any("Trakt" in item["description"] for item in audit["items"]), "Trakt logins are audited"


def test_admin_association(catalog_stack, member):
    _, _, admin, asid = member
    h = {"X-Session-Id": asid}
    missing = admin.post(catalog_stack.url("/api/trakt/admin/associate"), headers=h, verify=False,
                         json={"traktSlug": "someone", "userEmail": "nobody@home.lan"})
    assert missing.status_code == 404 and missing.json() == {"error": "User not found"}
    ok = admin.post(catalog_stack.url("/api/trakt/admin/associate"), headers=h, verify=False,
                    json={"traktSlug": "new-slug", "userEmail": "trakt-fan@home.lan"})
    assert ok.status_code == 200 and ok.json()["association"]["traktSlug"] == "new-slug"
    bad = admin.post(catalog_stack.url("/api/trakt/admin/associate"), headers=h, verify=False, json={"traktSlug": "", "userEmail": "x"})
    assert bad.status_code == 400


def test_device_check_needs_a_session_and_a_code(catalog_stack, member):
    jar, sid, _, _ = member
    assert catalog_stack.request("POST", "/api/trakt/auth/device/check", json={"deviceCode": "abc"}).status_code == 401
    empty = jar.post(catalog_stack.url("/api/trakt/auth/device/check"), headers={"X-Session-Id": sid}, json={"deviceCode": ""}, verify=False)
    assert empty.status_code == 400


def test_not_configured_is_503(tmp_path):
    tmp_path.chmod(0o755)
    stack = Stack(tmp_path / "data")
    stack.start()
    try:
        r = stack.request("POST", "/api/auth/device/trakt")
        assert r.status_code == 503 and r.json()["service"] == "TRAKT" and r.json()["needsConfiguration"] is True
    finally:
        stack.stop()
