"""First-party device login (issue 9): a TV asks for a code and shows its QR code, a signed-in
phone approves it, the TV's poll turns into a normal session. The QR code our server draws is
rendered by librsvg and read back by a real decoder (zbarimg)."""
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import Stack, audit_until

TV_AGENT = "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) SamsungBrowser/3.0 TV Safari/537.36"


@pytest.fixture(scope="module")
def device_stack():
    with tempfile.TemporaryDirectory(prefix="miauflix-e2e-device-") as tmp:
        os.chmod(tmp, 0o755)
        s = Stack(Path(tmp) / "data", DISABLE_BACKGROUND_TASKS="true")
        try:
            s.start()
            s.admin_jar = requests.Session()
            _, s.admin_jar.sid = s.login(*s.admin, session=s.admin_jar)
            r = s.admin_jar.post(s.url("/api/auth/users"), json={"email": "phone@example.com", "password": "correct-horse-42", "role": "user"},
                                 headers={"X-Session-Id": s.admin_jar.sid}, verify=False, timeout=10)
            assert r.status_code == 201, r.text
            s.phone = requests.Session()
            _, s.phone.sid = s.login("phone@example.com", "correct-horse-42", session=s.phone)
            yield s
        finally:
            s.stop()


def start(stack, tv, **body):
    r = tv.post(stack.url("/api/auth/device"), json=body, headers={"User-Agent": TV_AGENT}, verify=False, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def poll(stack, tv, device_code):
    return tv.post(stack.url("/api/auth/device/token"), json={"deviceCode": device_code}, headers={"User-Agent": TV_AGENT},
                   verify=False, timeout=10)


def phone(stack, method, path):
    return stack.phone.request(method, stack.url(path), headers={"X-Session-Id": stack.phone.sid}, verify=False, timeout=10)


def decode_qr(svg, tmp_path):
    (tmp_path / "qr.svg").write_text(svg)
    subprocess.run(["rsvg-convert", "-w", "400", "-h", "400", "-o", str(tmp_path / "qr.png"), str(tmp_path / "qr.svg")], check=True,
                   capture_output=True)
    result = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "qr.png")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_tv_signs_in_when_a_phone_approves(device_stack, tmp_path):
    s = device_stack
    tv = requests.Session()
    started = start(s, tv, deviceName="Living room TV")
    code = started["userCode"]
    assert len(code) == 9 and code[4] == "-" and not set(code.replace("-", "")) & set("AEIOU01L")
    assert started["interval"] == 5 and started["expiresIn"] == 600
    assert started["verificationUrl"] == f"https://127.0.0.1:{s.https_port}/device"
    assert started["verificationUrlComplete"] == started["verificationUrl"] + "?code=" + code.replace("-", "")
    assert decode_qr(started["qrCode"], tmp_path) == started["verificationUrlComplete"], "a real decoder reads our QR code"

    r = poll(s, tv, started["deviceCode"])
    assert r.status_code == 400 and r.json()["error"] == "authorization_pending"
    r = poll(s, tv, started["deviceCode"])
    assert r.status_code == 429 and r.json()["error"] == "slow_down" and r.headers["Retry-After"] == "5"

    # The phone sees which device asks (typed in lower case without the dash still works).
    seen = phone(s, "GET", "/api/auth/device/" + code.replace("-", "").lower())
    assert seen.status_code == 200, seen.text
    seen = seen.json()
    assert seen["userCode"] == code and seen["status"] == "pending"
    assert seen["deviceName"] == "Living room TV" and seen["userAgent"] == TV_AGENT and seen["ipAddress"] == "127.0.0.1"
    assert s.get("/api/auth/device/" + code).status_code == 401, "only a signed-in user may look"

    assert phone(s, "POST", f"/api/auth/device/{code}/approve").json() == {"status": "approved"}
    assert phone(s, "POST", f"/api/auth/device/{code}/approve").status_code == 409

    time.sleep(4.2)  # the TV keeps to its interval
    r = poll(s, tv, started["deviceCode"])
    assert r.status_code == 200, r.text
    session = r.json()["session"]
    assert r.json()["user"]["email"] == "phone@example.com"
    assert any(c.name.startswith("__miauflix_at_") for c in tv.cookies) and any(c.name.startswith("__miauflix_rt_") for c in tv.cookies)
    me = tv.get(s.url("/api/auth/session"), headers={"X-Session-Id": session}, verify=False, timeout=10)
    assert me.status_code == 200 and me.json()["user"]["email"] == "phone@example.com", "a normal session, cookies as login"

    time.sleep(4.2)
    r = poll(s, tv, started["deviceCode"])
    assert r.status_code == 409 and r.json()["error"] == "already_used", "single use"

    rows = audit_until(s.admin_jar, s, s.admin_jar.sid, "eventType=DEVICE_AUTHORIZATION,LOGIN",
                       lambda body: any(i["eventType"] == "DEVICE_AUTHORIZATION" for i in body["items"])
                       and any(i["description"] == "Successful device login" for i in body["items"]))
    approval = next(i for i in rows["items"] if i["eventType"] == "DEVICE_AUTHORIZATION")
    assert approval["userEmail"] == "phone@example.com" and approval["metadata"]["device"] == "Living room TV"


def test_a_denied_or_expired_code_gives_no_session(device_stack):
    s = device_stack
    tv = requests.Session()
    denied = start(s, tv)
    assert phone(s, "POST", f"/api/auth/device/{denied['userCode']}/deny").json() == {"status": "denied"}
    r = poll(s, tv, denied["deviceCode"])
    assert r.status_code == 403 and r.json()["error"] == "access_denied"
    assert not any(c.name.startswith("__miauflix_at_") for c in tv.cookies)

    expiring = start(s, tv)
    db = sqlite3.connect(s.data_dir / "miauflix.sqlite", timeout=10)
    with db:  # ten minutes pass
        db.execute("UPDATE device_code SET expiresAt = datetime('now', '-1 second') WHERE userCode = ?", (expiring["userCode"].replace("-", ""),))
    r = poll(s, tv, expiring["deviceCode"])
    assert r.status_code == 410 and r.json()["error"] == "expired_token"
    assert phone(s, "GET", f"/api/auth/device/{expiring['userCode']}").status_code == 404
    assert phone(s, "POST", f"/api/auth/device/{expiring['userCode']}/approve").status_code == 404


def test_bad_codes_get_clear_errors(device_stack):
    s = device_stack
    tv = requests.Session()
    r = poll(s, tv, "A" * 43)
    assert r.status_code == 404 and r.json()["error"] == "invalid_device_code"
    assert poll(s, tv, "short").status_code == 400
    assert phone(s, "GET", "/api/auth/device/BCDF-2340").status_code == 404, "not in the alphabet"
    assert phone(s, "GET", "/api/auth/device/%3Cscript%3E").status_code == 404
    r = tv.post(s.url("/api/auth/device"), json={"deviceName": "<b>TV</b>"}, verify=False, timeout=10)
    assert r.status_code == 400
    r = tv.post(s.url("/api/auth/device/token"), data=b'{"deviceCode": ', headers={"Content-Type": "application/json"}, verify=False, timeout=10)
    assert r.status_code == 400 and r.json() == {"error": "Malformed JSON in request body"}
