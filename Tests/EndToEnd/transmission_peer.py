"""A real Transmission peer (Debian's transmission-cli 3.00) for the end-to-end tests.

TransmissionPeer(torrent, download_dir, encryption="required")
  seeds (the file already in download_dir) or leeches (it is not) one torrent, listening on
  127.0.0.1:<free port> (Transmission announces from 127.0.0.1 whatever it binds, so the
  tracker hands out that address), announcing to the torrent's trackers. DHT, PEX, LPD, uTP and port mapping
  are off: it finds peers through the tracker only. Runs under `timeout`, stopped by PID.
  .endpoint, .log(), .complete(path, sha256), .stop()
"""
from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import swarm

ENCRYPTION = {"required": 2, "preferred": 1, "tolerated": 0}


class TransmissionPeer:
    def __init__(self, torrent: Path, download_dir: Path, encryption: str = "required",
                 lifetime: int = swarm.DEFAULT_LIFETIME):
        bind = "127.0.0.1"
        self.address = bind
        self.port = swarm.free_port(bind)
        self.config = Path(tempfile.mkdtemp(prefix="miauflix-transmission-"))
        (self.config / "settings.json").write_text(json.dumps({
            "bind-address-ipv4": bind, "bind-address-ipv6": "::1", "peer-port": self.port, "peer-port-random-on-start": False,
            "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
            "port-forwarding-enabled": False, "encryption": ENCRYPTION[encryption], "message-level": 3,
            "speed-limit-up-enabled": False, "speed-limit-down-enabled": False, "ratio-limit-enabled": False,
        }))
        flag = {"required": "-er", "preferred": "-ep", "tolerated": "-et"}[encryption]
        self._out = open(self.config / "transmission.log", "w")
        self.proc = subprocess.Popen(
            ["timeout", "-k", "5", str(lifetime), "transmission-cli", flag, "-g", str(self.config), "-w", str(download_dir),
             "-p", str(self.port), str(torrent)],
            stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)
        swarm._live.add(self)
        if not swarm.wait_for(self._listening, 20, 0.1):
            self.stop()
            raise RuntimeError(f"transmission did not start listening: {self.log()[-2000:]}")
        # Announced (the tracker knows it) before anyone looks for it there.
        if not swarm.wait_for(lambda: re.search(r"Got \d+ \w+ from tracker", self.log()), 30, 0.1):
            self.stop()
            raise RuntimeError(f"transmission did not announce: {self.log()[-2000:]}")

    def _listening(self) -> bool:
        out = subprocess.run(["ss", "-ltnH", f"sport = :{self.port}"], capture_output=True, text=True).stdout
        return f"{self.address}:{self.port}" in out

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    def log(self) -> str:
        """Its log without the progress lines it redraws every second."""
        try:
            text = (self.config / "transmission.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(line for line in text.replace("\r", "\n").splitlines()
                         if line.strip() and not line.startswith(("Progress:", "Seeding,")))

    def stop(self):
        swarm._stop_process(self.proc)
        self._out.close()
        swarm._live.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
