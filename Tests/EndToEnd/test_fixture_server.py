"""The recorded-upstream server itself (Tests/Fixtures/server.py): YTS mirrors and their faults,
the yifystatus page, TheRARBG, the .torrent caches and the request log. No miauflix binary needed."""
import base64
import hashlib
import re
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from conftest import REPO

LIST = "/api/v2/list_movies.json?query_term=tt0111161&page=1&limit=20"


def bencode(value) -> bytes:
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"


def torrent(name: str):
    info = {"name": name, "length": 5, "piece length": 16384, "pieces": hashlib.sha1(b"hello").digest()}
    return bencode({"announce": "udp://t.invalid:1/announce", "info": info}), hashlib.sha1(bencode(info)).hexdigest().upper()


def torrent_hash(data: bytes) -> str:
    start = data.index(b"4:infod") + len(b"4:info")
    return hashlib.sha1(data[start:-1]).hexdigest().upper()  # info is the last key of these torrents


@pytest.fixture
def up(upstream):
    upstream.control()
    upstream.clear()
    requests.delete(upstream.base + "/__torrents", timeout=5)
    yield upstream
    upstream.control()


def test_every_mirror_serves_yts_with_urls_pointing_back(up):
    for mirror in ("yts", "yts-a", "yts-b", "yts-c", "yts-d", "yts-e", "yts-f"):
        body = requests.get(f"{up.base}/{mirror}{LIST}", timeout=5).json()
        assert body["status"] == "ok"
        for t in body["data"]["movies"][0]["torrents"]:
            assert t["url"] == f"{up.base}/{mirror}/torrent/download/{t['hash']}"
    empty = requests.get(f"{up.base}/yts-a/api/v2/list_movies.json?query_term=tt0000001&page=1&limit=20", timeout=5)
    assert empty.status_code == 200 and empty.json()["data"] == {"movie_count": 0, "limit": 20, "page_number": 1}
    up.control(rewrite_urls=False)
    body = requests.get(f"{up.base}/yts-a{LIST}", timeout=5).json()
    assert body["data"]["movies"][0]["torrents"][0]["url"].startswith("http://yts-mock/")


def test_mirror_faults_and_the_request_log(up):
    up.control(targets={"yts-a": {"mode": "timeout", "seconds": 3}, "yts-b": "error", "yts-c": "html",
                        "yts-d": "malformed", "yts-e": "reset", "yts-f": {"mode": "error", "status": 503, "count": 1}})
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(f"{up.base}/yts-a{LIST}", timeout=0.5)
    r = requests.get(f"{up.base}/yts-b{LIST}", timeout=5)
    assert r.status_code == 500
    r = requests.get(f"{up.base}/yts-c{LIST}", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html") and "<html" in r.text
    r = requests.get(f"{up.base}/yts-d{LIST}", timeout=5)
    assert r.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        r.json()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{up.base}/yts-e{LIST}", timeout=5)
    assert requests.get(f"{up.base}/yts-f{LIST}", timeout=5).status_code == 503
    assert requests.get(f"{up.base}/yts-f{LIST}", timeout=5).status_code == 200  # count: 1 used up
    assert requests.get(f"{up.base}/yts{LIST}", timeout=5).status_code == 200  # untouched target
    time.sleep(3)  # the timed-out request answers (to nobody) and gets its status
    log = [(e["target"], e["fault"], e["status"]) for e in up.requests()]
    assert log == [("yts-a", "timeout", 200), ("yts-b", "error", 500), ("yts-c", "html", 200),
                   ("yts-d", "malformed", 200), ("yts-e", "reset", None), ("yts-f", "error", 503),
                   ("yts-f", None, 200), ("yts", None, 200)]
    assert all(e["service"] == "yts" and e["path"].endswith(LIST) for e in up.requests())
    # merge keeps the other targets
    up.control(merge=True, targets={"yts-b": "ok"})
    assert requests.get(f"{up.base}/yts-b{LIST}", timeout=5).status_code == 200
    assert requests.get(f"{up.base}/yts-c{LIST}", timeout=5).headers["Content-Type"].startswith("text/html")


class Official(HTMLParser):
    """What the upstream discovery does: the <section> around the <h2> containing "official"."""

    def __init__(self):
        super().__init__()
        self.sections, self.stack, self.h2 = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.stack.append({"links": [], "heading": ""})
        elif tag == "h2":
            self.h2 = ""
        elif tag == "a" and self.stack:
            self.stack[-1]["links"].append(dict(attrs)["href"])

    def handle_data(self, data):
        if self.h2 is not None:
            self.h2 += data

    def handle_endtag(self, tag):
        if tag == "h2" and self.stack:
            self.stack[-1]["heading"] += self.h2
            self.h2 = None
        elif tag == "section":
            self.sections.append(self.stack.pop())

    def official(self):
        return next(s["links"] for s in self.sections if "official" in s["heading"].lower())


def test_yifystatus_lists_the_mirrors(up):
    page = requests.get(f"{up.base}/yifystatus/", timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")
    parser = Official()
    parser.feed(page.text)
    assert parser.official() == [f"{up.base}/yts-{x}" for x in "abcdef"] + [f"{up.base}/yts-a/"]
    assert f"{up.base}/fake-yts" in page.text and requests.get(f"{up.base}/fake-yts/api/v2/list_movies.json", timeout=5).status_code == 404
    up.control(yifystatus={"mirrors": ["yts-d", "http://example.invalid/x"]})
    parser = Official()
    parser.feed(requests.get(f"{up.base}/yifystatus/", timeout=5).text)
    assert parser.official() == [f"{up.base}/yts-d", "http://example.invalid/x"]
    up.control(targets={"yifystatus": {"mode": "error", "status": 502}})
    assert requests.get(f"{up.base}/yifystatus/", timeout=5).status_code == 502


def test_therarbg(up):
    r = requests.get(f"{up.base}/therarbg/imdb-detail/tt4154756/?format=json", timeout=5, allow_redirects=False)
    posts = r.json()["trb_posts"]
    assert r.status_code == 200 and len(posts) == 25 and len({p["info_hash"] for p in posts}) == 1
    assert requests.get(f"{up.base}/therarbg-b/imdb-detail/tt4154756/?format=json", timeout=5).json() == r.json()
    r = requests.get(f"{up.base}/therarbg/imdb-detail/tt0000001/?format=json", timeout=5, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/" and r.content == b""
    r = requests.get(f"{up.base}/therarbg/imdb-detail/tt4154756?format=json", timeout=5, allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"] == "/therarbg/imdb-detail/tt4154756/?format=json"
    r = requests.get(f"{up.base}/therarbg/get-posts/category:Movies:time:1H/?format=json", timeout=5)
    assert [p["n"] for p in r.json()["results"]][0] == "The frail gurgle 2025 1080p HDCAM x264 AC3"
    up.control(targets={"therarbg": {"unique_hashes": True}})
    posts = requests.get(f"{up.base}/therarbg/imdb-detail/tt4154756/?format=json", timeout=5).json()["trb_posts"]
    assert len({p["info_hash"] for p in posts}) == 25
    first = posts[0]["info_hash"]
    up.control(targets={"therarbg": {"unique_hashes": True}, "therarbg-b": "reset"}, hash_map={first: "AB" * 20})
    posts = requests.get(f"{up.base}/therarbg/imdb-detail/tt4154756/?format=json", timeout=5).json()["trb_posts"]
    assert posts[0]["info_hash"] == "AB" * 20 and posts[1]["info_hash"] != first
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{up.base}/therarbg-b/imdb-detail/tt4154756/?format=json", timeout=5)
    up.control(targets={"therarbg": "redirect"})
    r = requests.get(f"{up.base}/therarbg/imdb-detail/tt4154756/?format=json", timeout=5, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_yts_hash_map_points_a_source_at_a_registered_torrent(up):
    data, h = torrent("mapped.mkv")
    assert requests.post(f"{up.base}/__torrents", data=data, timeout=5).json()["hash"] == h
    up.control(hash_map={"2A23C985CB7731B7CA9D2C12D9F6E9D9A7CFC330": h})
    t = requests.get(f"{up.base}/yts-a{LIST}", timeout=5).json()["data"]["movies"][0]["torrents"][0]
    assert t["hash"] == h and t["url"].endswith(h)
    r = requests.get(t["url"], timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/x-bittorrent" and r.content == data


def test_torrent_caches(up, tmp_path):
    data, h = torrent("cached.mkv")
    assert requests.post(f"{up.base}/__torrents", data=data, timeout=5).json() == {"hash": h, "as": h}
    for url in (f"/itorrents/torrent/{h}.torrent", f"/itorrents/torrent/{h.lower()}.torrent", f"/torrage/torrent/{h.lower()}.torrent"):
        r = requests.get(up.base + url, timeout=5)
        assert r.status_code == 200 and r.content == data and r.headers["Content-Type"] == "application/x-bittorrent"
    # torrage's two steps (§3.7)
    page = requests.get(f"{up.base}/torrage/torrent.php?h={h.lower()}&ttl={int(time.time())}", timeout=5)
    token = re.search(r'getTTL\("([^"]+)"', page.text).group(1)
    shifted = "".join(chr((ord(c) - (97 if c.islower() else 65) - 12) % 26 + (97 if c.islower() else 65)) if c.isascii() and c.isalpha() else c
                      for c in token)
    r = requests.get(f"{up.base}/torrage/download.php", params={"h": h.lower(), "ttl": shifted[::-1]}, timeout=5)
    assert r.status_code == 200 and r.content == data
    assert requests.get(f"{up.base}/torrage/download.php", params={"h": h, "ttl": token}, timeout=5).status_code == 403
    # unknown hash
    assert requests.get(f"{up.base}/itorrents/torrent/{'0' * 40}.torrent", timeout=5).status_code == 404
    # a torrent registered under another hash: served, but its info-hash does not match
    other, other_hash = torrent("other.mkv")
    wrong = "CD" * 20
    assert requests.post(f"{up.base}/__torrents?as={wrong}", data=other, timeout=5).json() == {"hash": other_hash, "as": wrong}
    r = requests.get(f"{up.base}/itorrents/torrent/{wrong}.torrent", timeout=5)
    assert r.status_code == 200 and torrent_hash(r.content) == other_hash != wrong
    # the mismatch mode
    up.control(targets={"itorrents": "mismatch"})
    r = requests.get(f"{up.base}/itorrents/torrent/{h}.torrent", timeout=5)
    assert r.status_code == 200 and r.content.startswith(b"d") and torrent_hash(r.content) != h
    # a torrent built by the server
    made = requests.post(f"{up.base}/__torrents", json={"name": "made.mkv", "length": 100000}, timeout=5).json()
    assert torrent_hash(base64.b64decode(made["torrent_b64"])) == made["hash"] == made["as"]
    assert h in requests.get(f"{up.base}/__torrents", timeout=5).json()
    # a folder given on the command line, read again on a miss
    folder = tmp_path / "torrents"
    folder.mkdir()
    proc = subprocess.Popen(["timeout", "60", "python3", str(REPO / "Tests/Fixtures/server.py"), str(REPO / "Tests/Fixtures"), "0", str(folder)],
                            stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{int(proc.stdout.readline())}"
        assert requests.get(f"{base}/itorrents/torrent/{h}.torrent", timeout=5).status_code == 404
        (folder / "x.torrent").write_bytes(data)
        assert requests.get(f"{base}/torrage/torrent/{h}.torrent", timeout=5).content == data
    finally:
        proc.terminate()
        proc.wait(5)


def test_legacy_controls_still_apply(up):
    up.control(fail_status=500, fail_count=1, prefix="/yts-a/")
    assert requests.get(f"{up.base}/yts-a{LIST}", timeout=5).status_code == 500
    assert requests.get(f"{up.base}/yts-a{LIST}", timeout=5).status_code == 200
    up.control(malformed=True, prefix="/tmdb/3/movie/278")
    r = requests.get(f"{up.base}/tmdb/3/movie/278?language=en&append_to_response=translations,images", timeout=5)
    assert r.status_code == 200 and r.content == b'{"id": '


def test_the_tracker_answers_scrapes_and_announces(up):
    from urllib.parse import quote_from_bytes
    first, second = hashlib.sha1(b"one").digest(), hashlib.sha1(b"two").digest()
    query = "&".join("info_hash=" + quote_from_bytes(h, safe="") for h in (first, second))
    scrape = requests.get(f"{up.base}/tracker/scrape?{query}", timeout=5)
    assert scrape.status_code == 200
    assert scrape.content == bencode({"files": {first: {"complete": 5, "downloaded": 0, "incomplete": 2},
                                                 second: {"complete": 5, "downloaded": 0, "incomplete": 2}}})
    up.control(targets={"tracker": {"mode": "ok", "seeders": 9, "leechers": 1}})
    assert b"8:completei9e" in requests.get(f"{up.base}/tracker/scrape?{query}", timeout=5).content
    announce = requests.get(f"{up.base}/tracker/announce?{query}&port=6881", timeout=5)
    assert announce.content == bencode({"complete": 9, "incomplete": 1, "interval": 1800, "peers": b""})
    up.control(targets={"tracker": {"mode": "error", "status": 503}})
    assert requests.get(f"{up.base}/tracker/scrape?{query}", timeout=5).status_code == 503


def test_release_name_table():
    rows = (Path(REPO) / "Tests/Fixtures/release-names.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    assert header[:9] == ["name", "quality", "video_codec", "release_type", "audio", "languages", "season", "episode", "year"]
    body = [dict(zip(header, r.split("\t"))) for r in rows[1:] if r and not r.startswith("#")]
    assert len(body) >= 200 and len({r["name"] for r in body}) == len(body)
    allowed = {
        "quality": {"", "8K", "4K", "2K", "FHD", "HD", "SD", "3D"},
        "video_codec": {"", "X264", "X265", "X264_10BIT", "X265_10BIT", "AV1", "AV1_10BIT", "XVID", "VP9", "VP8", "MPEG4", "MPEG2", "VC1"},
        "release_type": {"", "WEB", "BLURAY", "HDTV", "DVD", "TS", "CAM"},
    }
    audio = {"AAC", "AC3", "EAC3", "DTS", "DTS-HD", "TRUEHD", "ATMOS", "FLAC", "MP3", "OPUS", "PCM"}
    for r in body:
        assert len(r) == len(header), r
        for k, values in allowed.items():
            assert r[k] in values, (k, r)
        assert not r["audio"] or set(r["audio"].split(",")) <= audio, r
        for k in ("season", "episode", "year"):
            assert r[k] == "" or r[k].isdigit(), (k, r)
