"""Debian's nginx with the shipped configuration (deploy/nginx), for the deployment tests and
`bench/deployed.py`: the same files an operator copies, with only the instance ports, the
listening port and the folders substituted."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ports import free_ports

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
SNIPPET = "/etc/nginx/snippets/icalfeed-locations.conf"
MIME_TYPES = "/etc/nginx/mime.types"
UPSTREAM_LINE = re.compile(r"^\s*#?\s*server 127\.0\.0\.1:\d+ .*;\n", re.MULTILINE)


def substituted(
    conf: str, instances: Sequence[int], port: int, folder: Path, extra: str = ""
) -> str:
    """The shipped icalfeed.conf with this test's ports and folders; each substitution must
    apply, so a change of the shipped file's shape fails here, not silently."""
    replacements = [
        (UPSTREAM_LINE, "", None),
        (
            "    hash $binary_remote_addr consistent;\n",
            "    hash $binary_remote_addr consistent;\n"
            + "".join(
                f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in instances
            ),
            1,
        ),
        ("/var/cache/nginx/icalfeed", str(folder / "cache"), 1),
        ("    listen 80;\n", f"    listen 127.0.0.1:{port};\n", 1),
        ("    listen [::]:80;\n", "", 1),
        (SNIPPET, str(folder / "icalfeed-locations.conf"), None),
    ]
    for old, new, count in replacements:
        if isinstance(old, re.Pattern):
            conf, made = old.subn(new, conf)
        else:
            made = conf.count(old)
            conf = conf.replace(old, new)
        assert made >= 1 and (count is None or made == count), f"shipped config changed: {old}"
    return conf + extra


def nginx_conf(folder: Path, instances: Sequence[int], port: int, extra: str = "") -> Path:
    """A whole nginx.conf in `folder` around the shipped files; returns its path. `extra`
    goes in the http block (another server, for a benchmark's baseline)."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "nginx" / "icalfeed-locations.conf", folder)
    shipped = (DEPLOY / "nginx" / "icalfeed.conf").read_text()
    (folder / "icalfeed.conf").write_text(substituted(shipped, instances, port, folder, extra))
    temp = "".join(
        f"    {kind}_temp_path {folder / name};\n"
        for kind, name in (
            ("client_body", "body"),
            ("proxy", "proxy"),
            ("fastcgi", "fastcgi"),
            ("uwsgi", "uwsgi"),
            ("scgi", "scgi"),
        )
    )
    main = folder / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 2;\npid {folder / 'nginx.pid'};\n"
        + f"error_log {folder / 'error.log'} notice;\n"
        + "events { worker_connections 1024; }\n"
        + "http {\n"
        # As Debian's /etc/nginx/nginx.conf has it, around the conf.d files.
        + "    sendfile on;\n    tcp_nopush on;\n    types_hash_max_size 2048;\n"
        + (f"    include {MIME_TYPES};\n" if Path(MIME_TYPES).exists() else "")
        + "    default_type application/octet-stream;\n    gzip on;\n"
        + f"    access_log {folder / 'access.log'};\n"
        + temp
        + f"    include {folder / 'icalfeed.conf'};\n"
        + "}\n"
    )
    return main


def check(conf: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the configuration."""
    assert NGINX is not None
    return subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)


@contextlib.contextmanager
def running_nginx(
    folder: Path, instances: Sequence[int], extra: str = ""
) -> Iterator[tuple[int, Path]]:
    """nginx with the shipped config in front of `instances` (ports on 127.0.0.1), up and
    listening: (its port, its folder), stopped afterwards."""
    assert NGINX is not None, "nginx is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    (port,) = free_ports(1)
    conf = nginx_conf(folder, instances, port, extra)
    tested = check(conf)
    assert tested.returncode == 0, tested.stderr
    process = subprocess.Popen(
        [NGINX, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield port, folder
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
