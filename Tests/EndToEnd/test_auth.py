"""Accounts, sessions and security through nginx over HTTPS (issue 3)."""
import concurrent.futures
import json
import re
import sqlite3
import statistics
import threading
import time

import jwt as pyjwt
import pytest
import requests

from conftest import audit_until, wait_until

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
FORCE = {"X-Force-RateLimit": "true"}


def make_user(stack, jar, sid, email, role="user", password="correct horse battery"):
    r = jar.post(stack.url("/api/auth/users"), headers={"X-Session-Id": sid},
                 json={"email": email, "password": password, "role": role}, verify=False, timeout=15)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def admin(stack):
    jar = requests.Session()
    r, sid = stack.login(*stack.admin, session=jar)
    assert r.status_code == 200, r.text
    return jar, sid


def headers(sid, **extra):
    return {"X-Session-Id": sid, **extra}


def raw_set_cookies(response):
    return response.raw.headers.getlist("Set-Cookie")


# --- Login --------------------------------------------------------------------------------

def test_login_sets_the_contract_cookies_in_order_and_never_returns_tokens(stack):
    r, sid = stack.login(*stack.admin)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"session", "user"}
    assert SESSION_ID.match(sid)
    assert body["user"]["email"] == stack.admin[0] and body["user"]["role"] == "admin"
    assert "displayName" in body["user"] and body["user"]["displayName"] is None
    assert "accessToken" not in r.text and "refreshToken" not in r.text
    cookies = raw_set_cookies(r)
    assert len(cookies) == 2
    access, refresh = cookies
    assert access.startswith(f"__miauflix_at_{sid}=") and "Max-Age=900" in access and "Path=/;" in access
    assert refresh.startswith(f"__miauflix_rt_{sid}=") and "Max-Age=604800" in refresh and "Path=/api/auth/" in refresh
    for c in cookies:
        assert "HttpOnly" in c and "SameSite=Strict" in c and "Secure" in c
    assert len(refresh.split(";")[0].split("=", 1)[1]) == 43
    _, again = stack.login(*stack.admin)
    assert again != sid, "every login is a new session"


def test_wrong_password_and_unknown_email_look_the_same(stack):
    wrong = stack.request("POST", "/api/auth/login", json={"email": stack.admin[0], "password": "not the password"})
    unknown = stack.request("POST", "/api/auth/login", json={"email": "nobody@nowhere.example", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "Invalid credentials"}
    assert not raw_set_cookies(wrong)

    def timed(email):
        started = time.perf_counter()
        stack.request("POST", "/api/auth/login", json={"email": email, "password": "not the password"})
        return time.perf_counter() - started

    known = statistics.median(timed(stack.admin[0]) for _ in range(5))
    absent = statistics.median(timed("nobody@nowhere.example") for _ in range(5))
    # Relative, same run: without the decoy hash an unknown e-mail answers ~50x faster.
    assert absent > known * 0.4, (known, absent)


@pytest.mark.parametrize("body,content_type,status", [
    ('{"email": "not-an-email", "password": "x"}', "application/json", 400),
    ('{"email": "a@b.co"}', "application/json", 400),
    ('{"email": 5, "password": "x"}', "application/json", 400),
    ('{"email": "a@b.co", "password": ', "application/json", 400),
    ("[]", "application/json", 400),
    ("email=a@b.co&password=x", "application/x-www-form-urlencoded", 415),
    ("", "text/plain", 415),
])
def test_bad_login_bodies_get_precise_4xx(stack, body, content_type, status):
    r = stack.request("POST", "/api/auth/login", data=body.encode(), headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    text = r.text.lower()
    for word in ("sql", "database", "internal", "exception", "stack", "swift"):
        assert word not in text


def test_validation_body_shape(stack):
    r = stack.request("POST", "/api/auth/login", json={"email": "nope", "password": ""})
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False and "error" in body
    paths = [issue["path"] for issue in body["error"]["issues"]]
    assert ["email"] in paths and ["password"] in paths


@pytest.mark.parametrize("email", [
    "' OR 1=1 --@x.org", "admin@vm.local'; DROP TABLE users; --", "a" * 10_000 + "@x.org", "\u0000@x.org", "😀@x.org"])
def test_hostile_emails_are_plain_data(stack, email):
    r = stack.request("POST", "/api/auth/login", json={"email": email, "password": "x" * 5000})
    assert r.status_code in (400, 401), r.text
    assert stack.get("/api/health").status_code == 200
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite")
    assert db.execute("SELECT COUNT(*) FROM users").fetchone()[0] >= 1, "users table intact"


def test_unknown_fields_are_ignored(stack):
    r = stack.request("POST", "/api/auth/login", json={"email": stack.admin[0], "password": stack.admin[1], "remember": True, "x": [1]})
    assert r.status_code == 200


# --- Sessions, refresh, logout --------------------------------------------------------------

def test_session_requires_header_and_matching_cookie(stack):
    jar = requests.Session()
    _, sid = stack.login(*stack.admin, session=jar)
    ok = jar.get(stack.url("/api/auth/session"), headers=headers(sid), verify=False)
    assert ok.status_code == 200 and ok.json()["id"] == sid
    no_header = jar.get(stack.url("/api/auth/session"), verify=False)
    assert no_header.status_code == 401
    assert no_header.json() == {"error": "Authentication required", "message": "Authentication required"}
    other = jar.get(stack.url("/api/auth/session"), headers=headers("A" * 22), verify=False)
    assert other.status_code == 401
    bearer = requests.get(stack.url("/api/auth/session"), verify=False,
                          headers={"X-Session-Id": sid, "Authorization": f"Bearer {jar.cookies.get(f'__miauflix_at_{sid}')}"})
    assert bearer.status_code == 401, "Bearer tokens are not accepted"


def test_refresh_rotates_and_a_replayed_token_revokes_the_session(stack, admin):
    jar = requests.Session()
    _, sid = stack.login(*stack.admin, session=jar)
    old = jar.cookies.get(f"__miauflix_rt_{sid}", path="/api/auth/")
    r = jar.post(stack.url(f"/api/auth/refresh/{sid}"), verify=False)
    assert r.status_code == 200 and r.json()["user"]["email"] == stack.admin[0]
    cookies = raw_set_cookies(r)
    assert cookies[0].startswith(f"__miauflix_at_{sid}=") and cookies[1].startswith(f"__miauflix_rt_{sid}=")
    new = jar.cookies.get(f"__miauflix_rt_{sid}", path="/api/auth/")
    assert new != old
    # An attacker replays the stolen, rotated-away token.
    replay = requests.post(stack.url(f"/api/auth/refresh/{sid}"), cookies={f"__miauflix_rt_{sid}": old}, verify=False)
    assert replay.status_code == 401
    assert replay.json() == {"error": "Authentication required", "message": "Invalid token"}
    deletions = raw_set_cookies(replay)
    assert any(c.startswith(f"__miauflix_rt_{sid}=;") and "Max-Age=0" in c and "Path=/api/auth/" in c for c in deletions)
    assert any(c.startswith(f"__miauflix_at_{sid}=;") and "Max-Age=0" in c and "Path=/;" in c for c in deletions)
    # The session is revoked for the legitimate holder too.
    after = jar.post(stack.url(f"/api/auth/refresh/{sid}"), verify=False)
    assert after.status_code == 401
    # And a CRITICAL row says so.
    ajar, asid = admin
    rows = ajar.get(stack.url("/api/admin/audit?eventType=SUSPICIOUS_ACTIVITY"), headers=headers(asid), verify=False).json()
    assert rows["total"] >= 1
    assert rows["items"][0]["severity"] == "CRITICAL"
    assert rows["items"][0]["metadata"]["session"] == sid


def test_refresh_without_cookie_or_with_another_sessions_cookie(stack):
    jar_a, jar_b = requests.Session(), requests.Session()
    _, a = stack.login(*stack.admin, session=jar_a)
    _, b = stack.login(*stack.admin, session=jar_b)
    none = requests.post(stack.url(f"/api/auth/refresh/{a}"), verify=False)
    assert none.status_code == 401 and not raw_set_cookies(none)
    b_token = jar_b.cookies.get(f"__miauflix_rt_{b}", path="/api/auth/")
    crossed = requests.post(stack.url(f"/api/auth/refresh/{a}"), cookies={f"__miauflix_rt_{a}": b_token}, verify=False)
    assert crossed.status_code == 401
    assert jar_a.post(stack.url(f"/api/auth/refresh/{a}"), verify=False).status_code == 200, "A still works"
    garbage = requests.post(stack.url("/api/auth/refresh/..%2F..%2Fetc"), verify=False)
    assert garbage.status_code == 401


def test_profiles_side_by_side_in_one_browser(stack, admin):
    ajar, asid = admin
    emails = [f"profile{i}@home.lan" for i in range(3)]
    for email in emails:
        make_user(stack, ajar, asid, email)
    jar = requests.Session()
    sessions = {}
    for email in emails:
        _, sid = stack.login(email, "correct horse battery", session=jar)
        sessions[email] = sid
    for email, sid in sessions.items():
        r = jar.get(stack.url("/api/auth/session"), headers=headers(sid), verify=False)
        assert r.json()["user"]["email"] == email
    listed = jar.get(stack.url("/api/auth/sessions"), verify=False).json()
    assert {item["user"]["email"] for item in listed} == set(emails)
    assert {item["session"] for item in listed} == set(sessions.values())


def test_logout_deletes_both_cookies_with_their_paths(stack):
    jar = requests.Session()
    _, sid = stack.login(*stack.admin, session=jar)
    r = jar.post(stack.url(f"/api/auth/logout/{sid}"), verify=False)
    assert r.status_code == 200 and r.json() == {"message": "Logged out successfully"}
    refresh_del, access_del = raw_set_cookies(r)
    assert refresh_del.startswith(f"__miauflix_rt_{sid}=;") and "Path=/api/auth/" in refresh_del and "Max-Age=0" in refresh_del
    assert access_del.startswith(f"__miauflix_at_{sid}=;") and "Path=/;" in access_del and "Max-Age=0" in access_del
    assert jar.cookies.get(f"__miauflix_rt_{sid}", path="/api/auth/") is None, "the browser really drops it"
    assert requests.post(stack.url(f"/api/auth/refresh/{sid}"), cookies={f"__miauflix_rt_{sid}": "x" * 43},
                         verify=False).status_code == 401


def test_five_sessions_per_user_least_recently_used_goes(stack, admin):
    ajar, asid = admin
    make_user(stack, ajar, asid, "slots@home.lan")
    jars = []
    for _ in range(6):
        jar = requests.Session()
        _, sid = stack.login("slots@home.lan", "correct horse battery", session=jar)
        jars.append((jar, sid))
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite")
    count = db.execute("SELECT COUNT(*) FROM refresh_tokens r JOIN users u ON u.id = r.userId WHERE u.email = 'slots@home.lan'").fetchone()[0]
    assert count == 5
    first_jar, first = jars[0]
    assert first_jar.post(stack.url(f"/api/auth/refresh/{first}"), verify=False).status_code == 401
    last_jar, last = jars[-1]
    assert last_jar.post(stack.url(f"/api/auth/refresh/{last}"), verify=False).status_code == 200


def test_refresh_chain_cap(stack, admin):
    ajar, asid = admin
    make_user(stack, ajar, asid, "chain@home.lan")
    jar = requests.Session()
    _, sid = stack.login("chain@home.lan", "correct horse battery", session=jar)
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite", timeout=10)
    db.execute("UPDATE refresh_tokens SET createdAt = datetime('now', '-31 days') WHERE session = ?", (sid,))
    db.commit()
    r = jar.post(stack.url(f"/api/auth/refresh/{sid}"), verify=False)
    assert r.status_code == 401
    assert db.execute("SELECT COUNT(*) FROM refresh_tokens WHERE session = ?", (sid,)).fetchone()[0] == 0


# --- JWT ------------------------------------------------------------------------------------

def session_with_token(stack, sid, token):
    return requests.get(stack.url("/api/auth/session"), verify=False,
                        headers={"X-Session-Id": sid, "Cookie": f"__miauflix_at_{sid}={token}"})


def test_jwt_interoperates_with_pyjwt(stack):
    secret = stack.secrets()["JWT_SECRET"]
    jar = requests.Session()
    r, sid = stack.login(*stack.admin, session=jar)
    token = jar.cookies.get(f"__miauflix_at_{sid}")
    claims = pyjwt.decode(token, secret, algorithms=["HS256"], audience="miauflix-client", issuer="miauflix-api")
    assert claims["userId"] == r.json()["user"]["id"] and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 900
    now = int(time.time())
    good = dict(claims, iat=now, exp=now + 60)
    assert session_with_token(stack, sid, pyjwt.encode(good, secret, algorithm="HS256")).status_code == 200
    assert session_with_token(stack, sid, pyjwt.encode(good, "wrong-key-wrong-key-wrong-key-00", algorithm="HS256")).status_code == 401


def test_jwt_attacks_are_refused(stack):
    secret = stack.secrets()["JWT_SECRET"]
    jar = requests.Session()
    r, sid = stack.login(*stack.admin, session=jar)
    now = int(time.time())
    base = {"userId": r.json()["user"]["id"], "email": stack.admin[0], "role": "admin", "iat": now,
            "exp": now + 60, "iss": "miauflix-api", "aud": "miauflix-client"}
    good = pyjwt.encode(base, secret, algorithm="HS256")
    head, payload, signature = good.split(".")
    import base64

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    attacks = {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg none with signature": f"{b64({'alg': 'none'})}.{payload}.{signature}",
        "HS512": pyjwt.encode(base, secret, algorithm="HS512"),
        "expired": pyjwt.encode(dict(base, exp=now - 1), secret, algorithm="HS256"),
        "not yet valid": pyjwt.encode(dict(base, nbf=now + 3600), secret, algorithm="HS256"),
        "wrong issuer": pyjwt.encode(dict(base, iss="evil"), secret, algorithm="HS256"),
        "wrong audience": pyjwt.encode(dict(base, aud="someone-else"), secret, algorithm="HS256"),
        "missing role": pyjwt.encode({k: v for k, v in base.items() if k != "role"}, secret, algorithm="HS256"),
        "exp as string": pyjwt.encode(dict(base, exp=str(now + 60)), secret, algorithm="HS256") if False else
            f"{head}.{b64(dict(base, exp=str(now + 60)))}.{signature}",
        "extra segment": good + ".x",
        "two segments": f"{head}.{payload}",
        "bad base64": f"{head}.{payload[:-2]}!!.{signature}",
        "tampered payload": f"{head}.{b64(dict(base, role='admin', userId='someone'))}.{signature}",
        "huge": "a" * 5000,
        "crit header": pyjwt.encode(base, secret, algorithm="HS256", headers={"crit": ["exp"]}),
    }
    for name, token in attacks.items():
        assert session_with_token(stack, sid, token).status_code == 401, name
    assert session_with_token(stack, sid, good).status_code == 200


# --- Roles and user management -------------------------------------------------------------

def test_roles_are_enforced(stack, admin):
    ajar, asid = admin
    make_user(stack, ajar, asid, "guest@home.lan", role="guest")
    make_user(stack, ajar, asid, "member@home.lan", role="user")
    gjar, gsid = requests.Session(), None
    _, gsid = stack.login("guest@home.lan", "correct horse battery", session=gjar)
    ujar = requests.Session()
    _, usid = stack.login("member@home.lan", "correct horse battery", session=ujar)
    assert gjar.get(stack.url("/api/auth/session"), headers=headers(gsid), verify=False).json()["user"]["role"] == "guest"
    for jar, sid in ((gjar, gsid), (ujar, usid)):
        for method, path in (("GET", "/api/auth/users"), ("POST", "/api/auth/users"), ("GET", "/api/config"),
                             ("GET", "/api/admin/audit"), ("DELETE", "/api/auth/users/x")):
            r = jar.request(method, stack.url(path), headers=headers(sid), json={}, verify=False)
            assert r.status_code == 403, (method, path, r.status_code)
            assert r.json() == {"error": "Insufficient permissions", "message": "Insufficient permissions"}
    anonymous = requests.post(stack.url("/api/auth/users"), json={}, verify=False, headers=FORCE)
    assert anonymous.status_code == 401, "the guard runs before the rate limit on this route"
    status = gjar.get(stack.url("/api/status"), headers=headers(gsid), verify=False).json()
    assert status["services"]["TMDB"]["missingVars"] == [], "details are admin-only"


def test_admin_user_management(stack, admin):
    ajar, asid = admin
    created = make_user(stack, ajar, asid, "managed@home.lan")
    dup = ajar.post(stack.url("/api/auth/users"), headers=headers(asid), verify=False,
                    json={"email": "managed@home.lan", "password": "correct horse battery", "role": "user"})
    assert dup.status_code == 409 and dup.json() == {"error": "User already exists"}
    weak = ajar.post(stack.url("/api/auth/users"), headers=headers(asid), verify=False,
                     json={"email": "weak@home.lan", "password": "weak@home.lan", "role": "user"})
    assert weak.status_code == 400
    listed = ajar.get(stack.url("/api/auth/users"), headers=headers(asid), verify=False).json()
    assert any(u["email"] == "managed@home.lan" and u["disabled"] is False for u in listed)

    mjar = requests.Session()
    _, msid = stack.login("managed@home.lan", "correct horse battery", session=mjar)
    uid = created["id"]
    r = ajar.patch(stack.url(f"/api/auth/users/{uid}"), headers=headers(asid), json={"role": "guest"}, verify=False)
    assert r.status_code == 200 and r.json()["role"] == "guest"
    r = ajar.patch(stack.url(f"/api/auth/users/{uid}"), headers=headers(asid), json={"disabled": True}, verify=False)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert mjar.post(stack.url(f"/api/auth/refresh/{msid}"), verify=False).status_code == 401
    refused, _ = stack.login("managed@home.lan", "correct horse battery")
    assert refused.status_code == 403 and refused.json() == {"error": "Account disabled"}
    ajar.patch(stack.url(f"/api/auth/users/{uid}"), headers=headers(asid), json={"disabled": False}, verify=False)
    back, msid = stack.login("managed@home.lan", "correct horse battery", session=mjar)
    assert back.status_code == 200

    reset = ajar.post(stack.url(f"/api/auth/users/{uid}/password"), headers=headers(asid),
                      json={"password": "a brand new password"}, verify=False)
    assert reset.status_code == 200
    assert mjar.post(stack.url(f"/api/auth/refresh/{msid}"), verify=False).status_code == 401
    assert stack.login("managed@home.lan", "a brand new password")[0].status_code == 200

    gone = ajar.delete(stack.url(f"/api/auth/users/{uid}"), headers=headers(asid), verify=False)
    assert gone.status_code == 200
    assert ajar.delete(stack.url(f"/api/auth/users/{uid}"), headers=headers(asid), verify=False).status_code == 404
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite")
    assert db.execute("SELECT COUNT(*) FROM refresh_tokens WHERE userId = ?", (uid,)).fetchone()[0] == 0


def test_the_last_admin_cannot_be_removed(stack, admin):
    ajar, asid = admin
    me = ajar.get(stack.url("/api/auth/session"), headers=headers(asid), verify=False).json()["user"]["id"]
    admins = [u for u in ajar.get(stack.url("/api/auth/users"), headers=headers(asid), verify=False).json()
              if u["role"] == "admin" and not u["disabled"]]
    if len(admins) == 1:
        r = ajar.patch(stack.url(f"/api/auth/users/{me}"), headers=headers(asid), json={"role": "user"}, verify=False)
        assert r.status_code == 409 and r.json() == {"error": "Cannot remove the last admin"}
        assert ajar.delete(stack.url(f"/api/auth/users/{me}"), headers=headers(asid), verify=False).status_code == 409


def test_changing_ones_own_password_signs_out_the_other_sessions(stack, admin):
    ajar, asid = admin
    make_user(stack, ajar, asid, "changer@home.lan")
    here, other = requests.Session(), requests.Session()
    _, here_sid = stack.login("changer@home.lan", "correct horse battery", session=here)
    _, other_sid = stack.login("changer@home.lan", "correct horse battery", session=other)
    wrong = here.post(stack.url("/api/auth/password"), headers=headers(here_sid), verify=False,
                      json={"currentPassword": "nope nope nope", "newPassword": "another good password"})
    assert wrong.status_code == 403
    short = here.post(stack.url("/api/auth/password"), headers=headers(here_sid), verify=False,
                      json={"currentPassword": "correct horse battery", "newPassword": "short"})
    assert short.status_code == 400 and "at least 10" in short.text
    ok = here.post(stack.url("/api/auth/password"), headers=headers(here_sid), verify=False,
                   json={"currentPassword": "correct horse battery", "newPassword": "another good password"})
    assert ok.status_code == 200
    assert other.post(stack.url(f"/api/auth/refresh/{other_sid}"), verify=False).status_code == 401
    assert here.post(stack.url(f"/api/auth/refresh/{here_sid}"), verify=False).status_code == 200
    assert stack.login("changer@home.lan", "another good password")[0].status_code == 200


def test_setup_is_hidden_when_disabled(stack):
    r = stack.request("POST", "/api/auth/setup", json={"email": "x@y.org", "password": "a good long password"})
    assert r.status_code == 404 and r.json() == {"error": "Not found"}
    bad = stack.request("POST", "/api/auth/setup", data=b"{", headers={"Content-Type": "application/json"})
    assert bad.status_code == 404, "the feature check comes before validation"


# --- Rate limits ----------------------------------------------------------------------------

def test_rate_limits_answer_429_with_retry_after(stack):
    def attempt(_):
        return stack.request("POST", "/api/auth/login", headers=FORCE, json={"email": "rl@x.org", "password": "whatever"})

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(attempt, range(10)))
    limited = [r for r in results if r.status_code == 429]
    assert limited, [r.status_code for r in results]
    assert limited[0].text == "Too Many Requests"
    assert int(limited[0].headers["Retry-After"]) >= 1
    # Without the force header the test mode skips limiting.
    assert all(stack.request("GET", "/api/health").status_code == 200 for _ in range(15))


def test_a_one_per_second_limit_holds_across_workers(stack):
    assert len(stack.worker_pids()) == 2
    second_answers = []
    for _ in range(6):
        time.sleep(1.1)
        first = stack.request("POST", "/api/auth/logout/" + "B" * 22, headers=FORCE)
        second = stack.request("POST", "/api/auth/logout/" + "B" * 22, headers=FORCE)
        assert first.status_code == 200, first.text
        second_answers.append(second.status_code)
    assert second_answers == [429] * 6, second_answers


def test_limits_are_per_method(stack, admin):
    ajar, asid = admin
    h = headers(asid, **FORCE)
    time.sleep(1.1)
    assert ajar.put(stack.url("/api/config"), headers=h, json={"entries": [{"key": "NOPE", "value": "1"}]}, verify=False).status_code == 400
    assert ajar.get(stack.url("/api/config"), headers=h, verify=False).status_code == 200, "GET has its own limiter"


# --- Origin and CORS ------------------------------------------------------------------------

def test_cross_site_state_changes_are_refused(stack):
    evil = stack.request("POST", "/api/auth/login", headers={"Origin": "https://evil.example"},
                         json={"email": stack.admin[0], "password": stack.admin[1]})
    assert evil.status_code == 403 and evil.json() == {"error": "Origin not allowed"}
    referer = stack.request("POST", "/api/auth/login", headers={"Referer": "https://evil.example/page"},
                            json={"email": stack.admin[0], "password": stack.admin[1]})
    assert referer.status_code == 403
    same = stack.request("POST", "/api/auth/login", headers={"Origin": f"https://127.0.0.1:{stack.https_port}"},
                         json={"email": stack.admin[0], "password": stack.admin[1]})
    assert same.status_code == 200
    listed = stack.request("POST", "/api/auth/login", headers={"Origin": "http://localhost:3000"},
                           json={"email": stack.admin[0], "password": stack.admin[1]})
    assert listed.status_code == 200
    assert listed.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert listed.headers["Access-Control-Allow-Credentials"] == "true"
    assert stack.request("GET", "/api/health", headers={"Origin": "https://evil.example"}).status_code == 200, "reads pass"


def test_cors_preflight(stack):
    r = stack.request("OPTIONS", "/api/auth/login", headers={"Origin": "http://localhost:4173",
                                                             "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:4173"
    assert "X-Session-Id" in r.headers["Access-Control-Allow-Headers"]
    foreign = stack.request("OPTIONS", "/api/auth/login", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 204 and "Access-Control-Allow-Origin" not in foreign.headers


# --- Configuration and audit ----------------------------------------------------------------

def test_config_never_shows_secrets_and_put_is_all_or_nothing(stack, admin):
    ajar, asid = admin
    h = headers(asid)
    entries = ajar.get(stack.url("/api/config"), headers=h, verify=False).json()
    body = json.dumps(entries)
    for name, value in stack.secrets().items():
        assert value not in body, name
    jwt_entry = next(e for e in entries if e["key"] == "JWT_SECRET")
    assert jwt_entry == {"key": "JWT_SECRET", "value": "****", "isSecret": True, "serviceGroup": "JWT",
                         "description": jwt_entry["description"], "required": True, "hasValue": True}
    assert [e["serviceGroup"] for e in entries][0] == "JWT"

    unknown = ajar.put(stack.url("/api/config"), headers=h, verify=False, json={"entries": [{"key": "NOT_A_VAR", "value": "1"}]})
    assert unknown.status_code == 400 and unknown.json() == {"error": "Unknown configuration keys: NOT_A_VAR"}
    config_file = stack.data_dir / "config.json"
    before = config_file.read_text() if config_file.exists() else None
    time.sleep(0.6)
    mixed = ajar.put(stack.url("/api/config"), headers=h, verify=False, json={"entries": [
        {"key": "TMDB_API_ACCESS_TOKEN", "value": "tmdb-token-123456"}, {"key": "ACCESS_TOKEN_EXPIRATION", "value": "soon"}]})
    assert mixed.status_code == 400 and mixed.json() == {"success": False, "invalidKeys": ["ACCESS_TOKEN_EXPIRATION"]}
    assert (config_file.read_text() if config_file.exists() else None) == before, "nothing saved"
    readonly = ajar.put(stack.url("/api/config"), headers=h, verify=False,
                        json={"entries": [{"key": "SOURCE_SECURITY_KEY", "value": "x"}]})
    assert readonly.status_code == 400


def test_config_change_is_encrypted_audited_and_survives_a_reload(stack, admin):
    ajar, asid = admin
    old_workers = stack.worker_pids()
    r = ajar.put(stack.url("/api/config"), headers=headers(asid), verify=False,
                 json={"entries": [{"key": "TMDB_API_ACCESS_TOKEN", "value": "tmdb-token-abcdef"}]})
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "restarting": ["TMDB"], "needsProcessRestart": []}
    stored = json.loads((stack.data_dir / "config.json").read_text())
    assert stored["TMDB_API_ACCESS_TOKEN"].startswith("enc:")
    assert "tmdb-token-abcdef" not in (stack.data_dir / "config.json").read_text()
    assert wait_until(lambda: len(stack.worker_pids()) == 2 and not set(stack.worker_pids()) & set(old_workers), 10)
    status = ajar.get(stack.url("/api/status"), headers=headers(asid), verify=False).json()
    assert status["services"]["TMDB"] == {"status": "ready"}, "the new workers decrypted the stored token"
    entry = next(e for e in ajar.get(stack.url("/api/config"), headers=headers(asid), verify=False).json()
                 if e["key"] == "TMDB_API_ACCESS_TOKEN")
    assert entry["value"] == "tmdb****" and entry["hasValue"] is True
    audit = audit_until(ajar, stack, asid, "eventType=CONFIGURATION_CHANGE", lambda b: b["total"] >= 1)
    assert audit["total"] >= 1 and "tmdb-token-abcdef" not in json.dumps(audit)
    restart = ajar.post(stack.url("/api/config/tmdb/restart"), headers=headers(asid), verify=False)
    assert restart.status_code == 200 and restart.json()["success"] is True
    assert ajar.post(stack.url("/api/config/server/restart"), headers=headers(asid), verify=False).status_code == 400
    assert ajar.post(stack.url("/api/config/nope/restart"), headers=headers(asid), verify=False).status_code == 404


def test_audit_log_query(stack, admin):
    ajar, asid = admin
    stack.request("POST", "/api/auth/login", json={"email": "audited@x.org", "password": "wrong password"})
    h = headers(asid)
    failures = ajar.get(stack.url("/api/admin/audit?eventType=LOGIN_FAILURE&user=audited@x.org"), headers=h, verify=False).json()
    assert failures["total"] >= 1
    item = failures["items"][0]
    assert item["eventType"] == "LOGIN_FAILURE" and item["severity"] == "WARNING" and item["userEmail"] == "audited@x.org"
    assert item["metadata"]["headers"].get("cookie", "REDACTED") == "REDACTED"
    everything = json.dumps(ajar.get(stack.url("/api/admin/audit?limit=500"), headers=h, verify=False).json())
    assert stack.admin[1] not in everything, "no password in the audit log"
    assert "__miauflix_rt_" not in everything or "REDACTED" in everything
    paged = ajar.get(stack.url("/api/admin/audit?limit=2&page=2"), headers=h, verify=False).json()
    assert paged["limit"] == 2 and paged["page"] == 2 and len(paged["items"]) <= 2
    logins = audit_until(ajar, stack, asid, "eventType=LOGIN&severity=info", lambda b: b["total"] >= 1)
    assert all(i["eventType"] == "LOGIN" for i in logins["items"]) and logins["total"] >= 1
    assert ajar.get(stack.url("/api/admin/audit?severity=LOUD"), headers=h, verify=False).status_code == 400
    assert ajar.get(stack.url("/api/admin/audit?from=yesterday"), headers=h, verify=False).status_code == 400


def test_nginx_coarse_limit_on_auth(tmp_path):
    from conftest import Stack
    tmp_path.chmod(0o755)
    stack = Stack(tmp_path / "data", AUTH_RATE_LIMIT="20")
    stack.start()
    try:
        check_flood_is_stopped(stack)
    finally:
        stack.stop()


def check_flood_is_stopped(stack):
    # Kept-alive connections per thread: the flood outruns the zone even on a loaded machine
    # (a TLS handshake per request could keep a slow client under 20 requests/s).
    local = threading.local()

    def hit(_):
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session.get(stack.url("/api/auth/sessions"), verify=False, timeout=15).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(hit, range(300)))
    assert 429 in codes, "nginx's zone stops floods even in rate-limit test mode"
    time.sleep(2.5)
    assert stack.request("GET", "/api/auth/sessions").status_code == 200


def test_api_access_rows_cover_changes_and_failures_not_page_views(stack, admin):
    ajar, asid = admin
    h = headers(asid)
    ajar.get(stack.url("/api/auth/session?marker=view"), headers=h, verify=False)
    ajar.get(stack.url("/api/nope?marker=missing"), headers=h, verify=False)
    ajar.post(stack.url("/api/auth/logout/" + "C" * 22 + "?marker=write"), verify=False)
    def markers_of(body):
        return {r["metadata"]["query"].get("marker") for r in body["items"] if isinstance(r["metadata"].get("query"), dict)}

    body = audit_until(ajar, stack, asid, "eventType=API_ACCESS&limit=500", lambda b: {"write", "missing"} <= markers_of(b))
    markers = markers_of(body)
    assert "write" in markers and "missing" in markers
    assert "view" not in markers, "AUDIT_API_ACCESS=writes (default) skips successful reads"


def test_session_answer_reflects_a_disabled_user_within_a_second(stack, admin):
    ajar, asid = admin
    created = make_user(stack, ajar, asid, "soon-disabled@home.lan")
    jar = requests.Session()
    _, sid = stack.login("soon-disabled@home.lan", "correct horse battery", session=jar)
    assert jar.get(stack.url("/api/auth/session"), headers=headers(sid), verify=False).status_code == 200
    ajar.patch(stack.url(f"/api/auth/users/{created['id']}"), headers=headers(asid), json={"disabled": True}, verify=False)
    refused = wait_until(lambda: jar.get(stack.url("/api/auth/session"), headers=headers(sid), verify=False).status_code == 401, 5)
    assert refused, "the per-worker answer cache lives one second"
