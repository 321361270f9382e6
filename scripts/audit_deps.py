"""Check the locked dependencies against the vulnerabilities PyPI publishes.

Usage: python scripts/audit_deps.py requirements.lock

pip-audit asks PyPI per version (``/pypi/<name>/<version>/json``), which the registry
mirror here does not serve; the project endpoint (``/pypi/<name>/json``) is served and lists
the known vulnerabilities of the latest release.  So: a locked version that is the latest
is audited exactly; an older one is reported as needing an upgrade check.  Exit 1 when a
locked version has a known vulnerability; a registry that cannot be reached is reported and
skipped (exit 0), so an outage never turns CI red.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

PYPI = "https://pypi.org/pypi/{name}/json"


def locked(path: Path) -> list[tuple[str, str]]:
    pins = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins.append((name.strip(), version.strip()))
    return pins


def main(lock: str) -> int:
    vulnerable = stale = audited = 0
    for name, version in locked(Path(lock)):
        try:
            with urllib.request.urlopen(PYPI.format(name=name), timeout=20) as response:
                project = json.load(response)
        except (OSError, ValueError) as exc:
            print(f"audit skipped: cannot read PyPI for {name} ({exc})")
            return 0
        latest = project["info"]["version"]
        if version != latest:
            stale += 1
            print(f"UNAUDITED {name}=={version}: latest is {latest}; upgrade or check by hand")
            continue
        audited += 1
        for item in project.get("vulnerabilities") or []:
            vulnerable += 1
            fixed = ", ".join(item.get("fixed_in") or []) or "no fix yet"
            print(f"VULNERABLE {name}=={version}: {item.get('id')} (fixed in {fixed})")
    print(f"audit: {audited} audited, {stale} not latest, {vulnerable} known vulnerabilities")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "requirements.lock"))
