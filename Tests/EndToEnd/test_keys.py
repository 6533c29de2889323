"""Field encryption interoperability and `miauflix keys rotate` (issue 3)."""
import base64
import hashlib
import json
import os
import sqlite3

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conftest import Stack


def key_of(stack):
    return base64.b64decode(stack.secrets()["SOURCE_SECURITY_KEY"])


def seal_v1(key, plain, iv=None):
    iv = iv or os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, plain, None)  # ciphertext || tag
    ciphertext, tag = sealed[:-16], sealed[-16:]
    key_id = hashlib.sha256(b"miauflix key id" + key).digest()[:4]
    return b"MF\x01" + key_id + iv + tag + ciphertext


def seal_legacy(key, plain):
    iv = os.urandom(12)
    sealed = AESGCM(key).encrypt(iv, plain, None)
    return iv + sealed[-16:] + sealed[:-16]


def open_any(key, data):
    if data[:3] == b"MF\x01":
        iv, tag, ciphertext = data[7:19], data[19:35], data[35:]
    else:
        iv, tag, ciphertext = data[:12], data[12:28], data[28:]
    return AESGCM(key).decrypt(iv, ciphertext + tag, None)


def seed(stack, key, legacy=False):
    seal = seal_legacy if legacy else seal_v1
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite", timeout=10)
    db.execute("INSERT INTO movie (tmdbId, title) VALUES (550, 'Fight Club')")
    movie = db.execute("SELECT id FROM movie WHERE tmdbId = 550").fetchone()[0]
    db.execute("INSERT INTO movie_source (movieId, ih, ml, u, source, file) VALUES (?, ?, ?, ?, 'YTS', ?)", (
        movie, base64.b64encode(seal(key, b"c9e15763f722f23e98a29decdfae341b98d53056")).decode(),
        base64.b64encode(seal(key, b"magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056")).decode(),
        base64.b64encode(seal(key, b"https://yts.example/torrent/1")).decode(),
        seal(key, b"d8:announce...e")))
    db.commit()


def read_source(stack):
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite", timeout=10)
    return db.execute("SELECT ih, ml, u, file FROM movie_source").fetchone()


def test_rotation_reencrypts_every_column_and_stored_secret(tmp_path):
    stack = Stack(tmp_path / "data")
    assert stack.miauflix("migrate").returncode == 0
    old = key_of(stack)
    seed(stack, old)
    # A secret stored through PUT /api/config (format: enc: + base64 of v1).
    (stack.data_dir / "config.json").write_text(json.dumps(
        {"TMDB_API_ACCESS_TOKEN": "enc:" + base64.b64encode(seal_v1(old, b"tmdb-token-xyz")).decode()}))
    check = stack.miauflix("config", "check")
    assert "ok       TMDB_API_ACCESS_TOKEN=(set)" in check.stdout, "our loader decrypts Python-made values"

    result = stack.miauflix("keys", "rotate")
    assert result.returncode == 0, result.stderr
    assert "Re-encrypted 4 database values and 1 stored secrets." in result.stdout
    new = key_of(stack)
    assert new != old and len(new) == 32
    assert not (stack.data_dir / "secrets.env.rotating").exists()
    ih, ml, u, blob = read_source(stack)
    assert open_any(new, base64.b64decode(ih)) == b"c9e15763f722f23e98a29decdfae341b98d53056"
    assert open_any(new, base64.b64decode(ml)).startswith(b"magnet:?xt=")
    assert open_any(new, base64.b64decode(u)) == b"https://yts.example/torrent/1"
    assert open_any(new, blob) == b"d8:announce...e"
    stored = json.loads((stack.data_dir / "config.json").read_text())["TMDB_API_ACCESS_TOKEN"]
    assert open_any(new, base64.b64decode(stored[4:])) == b"tmdb-token-xyz"
    assert "ok       TMDB_API_ACCESS_TOKEN=(set)" in stack.miauflix("config", "check").stdout
    # The info-hash stays deterministic under the new key: the same hash, the same text.
    ih_again = stack.miauflix("keys", "rotate")
    assert ih_again.returncode == 0


def test_the_originals_header_less_format_is_read(tmp_path):
    stack = Stack(tmp_path / "data")
    assert stack.miauflix("migrate").returncode == 0
    key = key_of(stack)
    seed(stack, key, legacy=True)
    assert stack.miauflix("keys", "rotate").returncode == 0
    ih, *_ = read_source(stack)
    data = base64.b64decode(ih)
    assert data[:3] == b"MF\x01", "rewritten in our versioned format"
    assert open_any(key_of(stack), data) == b"c9e15763f722f23e98a29decdfae341b98d53056"


def test_a_corrupt_value_stops_rotation_and_changes_nothing(tmp_path):
    stack = Stack(tmp_path / "data")
    assert stack.miauflix("migrate").returncode == 0
    old = key_of(stack)
    seed(stack, old)
    db = sqlite3.connect(stack.data_dir / "miauflix.sqlite", timeout=10)
    db.execute("UPDATE movie_source SET u = ?", (base64.b64encode(b"garbage that is not ours").decode(),))
    db.commit()
    before = read_source(stack)
    secrets_before = (stack.data_dir / "secrets.env").read_text()
    result = stack.miauflix("keys", "rotate")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert read_source(stack) == before, "one transaction: nothing rewritten"
    assert (stack.data_dir / "secrets.env").read_text() == secrets_before
    assert key_of(stack) == old
