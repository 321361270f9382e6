"""The installed package serves every page (#14): templates and static files live at the top
level of the checkout, and a wheel built from it must carry them inside the package.

Builds the wheel with the test venv's setuptools (no download), installs it into a fresh
venv outside the checkout (its dependencies borrowed from the test venv by a `.pth` line, so
nothing is fetched), starts its `icalfeed serve` from a temporary folder and fetches pages.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from pathlib import Path

import pytest
from ports import free_ports

ROOT = Path(__file__).resolve().parents[1]


def site_packages(prefix: Path) -> Path:
    return Path(sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)}))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv outside the checkout with only the built wheel of icalfeed in it."""
    work = tmp_path_factory.mktemp("wheel")
    wheels = work / "wheels"
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [
            *pip,
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=work,
    )
    (wheel,) = wheels.glob("icalfeed-*.whl")
    target = work / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    subprocess.run(
        [
            *pip,
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        cwd=work,
    )
    # The dependencies (flask, icalendar, …) come from the test venv; `.pth` lines add paths
    # after the venv's own site-packages, so the wheel's icalfeed is the one imported.
    ours = site_packages(Path(sys.prefix))
    (site_packages(target) / "borrowed.pth").write_text(f"{ours}\n")
    return target


def test_the_wheel_carries_pages_and_assets_inside_the_package(installed):
    python = installed / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import icalfeed; print(icalfeed.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=installed.parent,
    ).stdout.strip()
    package = Path(where).parent
    assert package.is_relative_to(installed) and not package.is_relative_to(ROOT), where
    assert (package / "templates" / "base.html").is_file()
    assert (package / "static" / "site.css").is_file()
    assert (package / "sample" / "events.json").is_file()


def test_the_installed_server_serves_every_page(installed, tmp_path):
    (port,) = free_ports(1)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ICALFEED_")},
        "ICALFEED_DATA_DIR": str(tmp_path / "var"),
        "ICALFEED_LOG_LEVEL": "WARNING",
        "PYTHONPATH": "",
    }
    process = subprocess.Popen(
        [str(installed / "bin" / "icalfeed"), "serve", "--offline", "--port", str(port)],
        env=env,
        cwd=tmp_path,  # outside the checkout: nothing can be found beside it by accident
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "w"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.2)
        for path, words in [
            ("/", "Spaceflight events in your calendar"),
            ("/programs", "Programs"),
            ("/widget", "widget-title"),
        ]:
            with urllib.request.urlopen(base + path, timeout=10) as response:
                page = response.read().decode()
                assert response.status == 200, path
                assert response.headers["Content-Type"].startswith("text/html"), path
            assert words in page and "/static/site.css" in page, path
        with urllib.request.urlopen(base + "/static/site.css", timeout=10) as response:
            assert response.status == 200 and response.read()
        with urllib.request.urlopen(base + "/events.ics", timeout=10) as response:
            assert response.read().startswith(b"BEGIN:VCALENDAR")
    finally:
        process.terminate()
        process.wait(10)
