"""Launch Library 2 at its real size: 10,000 launches and 1,500 events as LL2 2.3.0 detailed
JSON, made from the real fixture records in tests/data (issue #16, part 2).

Deterministic: a seeded RNG and the `now` given, never the wall clock, so the same `now`
always gives the same bytes. Every record is made from a copy of a fixture record (the ten
detailed 2.2.0 launches and the 257 fixture events, moved to the 2.3.0 shape; the fixture
files are never changed), with these varied: the id (launches: fresh UUIDs; events: fresh
ints), name and slug; the date (launches from Sputnik 1 on 1957-10-04 to two years after
`now`, denser in recent years, 300 upcoming; events from 1998 on, 100 upcoming) and its
precision; the status; `last_updated` (always at or before `now`, recent items edited
recently, and one bulk edit of 250 old launches in a single second, as a database
migration leaves); the launch service provider, rocket, pad and location (a provider's own
rockets and pads, each in its era); the program lists (Artemis on some); the webcasts; and
for a share `updates` and `weather_concerns`.

Exactly one launch is ``SLS Block 1 | Artemis I`` (NET 2022-11-16T06:47:44Z, program Artemis,
id 15 as in the fixtures): tests find it by `ARTEMIS_I`.

The records are shared by every caller with the same `now` (generated once, in about a
second), and launches share what LL2 shares between them (one provider, pad, rocket
configuration or program object for all the launches that name it, as it is one row in
LL2's database): treat them as read-only, and `copy.deepcopy` one before changing it.

`python tests/ll2size.py` prints what it makes and how long that takes.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ll2data import LAUNCH_FIXTURES, upstream_events

LAUNCHES = 10_000
EVENTS = 1_500
UPCOMING_LAUNCHES = 300
UPCOMING_EVENTS = 100
BULK_EDIT = 250  # old launches stamped in one second
ARTEMIS_I = "SLS Block 1 | Artemis I"
ARTEMIS_I_NET = datetime(2022, 11, 16, 6, 47, 44, tzinfo=UTC)
ARTEMIS = 15  # LL2's program id, as the fixture events have it
FIRST_LAUNCH = datetime(1957, 10, 4, 19, 28, 34, tzinfo=UTC)  # Sputnik 1
FIRST_EVENT = datetime(1998, 11, 20, tzinfo=UTC)
SEED = 16
API = "https://ll.thespacedevs.com/2.3.0"
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def big_launches(now: datetime) -> list[dict[str, Any]]:
    """The 10,000 launches as LL2 2.3.0 detailed objects (read-only; see the module doc)."""
    return list(_generate(_second(now))[0])


def big_events(now: datetime) -> list[dict[str, Any]]:
    """The 1,500 events as LL2 2.3.0 detailed objects (read-only; see the module doc)."""
    return list(_generate(_second(now))[1])


def drop_cache() -> None:
    """Forget the generated records (for a benchmark that times this process without
    them: a million more live objects slow every garbage collection down)."""
    _generate.cache_clear()


def _second(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC).replace(microsecond=0)


@functools.lru_cache(maxsize=2)
def _generate(now: datetime) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    if now < ARTEMIS_I_NET:
        raise ValueError("now must be after Artemis I (2022-11-16): the data set holds it")
    rng = random.Random(SEED)
    launches = _Launches(rng, now).build()
    events = _Events(rng, now, launches).build()
    return tuple(launches), tuple(events)


# ---------------------------------------------------------------------------------------
# What LL2 names: statuses, precisions, providers, rockets, pads, programs, orbits.

STATUSES = {
    1: ("Go for Launch", "Go", "Current T-0 confirmed by official or reliable sources."),
    2: ("To Be Determined", "TBD", "Current date is a placeholder or rough estimation."),
    3: ("Launch Successful", "Success", "The launch vehicle successfully inserted its payload."),
    4: ("Launch Failure", "Failure", "Either the launch vehicle did not reach orbit, or the"),
    5: ("On Hold", "Hold", "Launch has been put on hold for the time being."),
    6: ("Launch in Flight", "In Flight", "The launch vehicle has lifted off from the pad."),
    7: ("Launch was a Partial Failure", "Partial Failure", "The payload was not placed in"),
    8: ("To Be Confirmed", "TBC", "Awaiting official confirmation - current date is known."),
    9: ("Payload Deployed", "Payload Deployed", "Payload(s) deployed, mission ongoing."),
}
PRECISIONS = {
    0: ("Second", "SEC"),
    1: ("Minute", "MIN"),
    2: ("Hour", "HR"),
    5: ("Day", "DAY"),
    7: ("Month", "M"),
    8: ("Quarter 1", "Q1"),
    9: ("Quarter 2", "Q2"),
    10: ("Quarter 3", "Q3"),
    11: ("Quarter 4", "Q4"),
    12: ("Year Half 1", "H1"),
    13: ("Year Half 2", "H2"),
    14: ("Year", "Y"),
}
# key: id, name, abbrev, type, country
PROVIDERS = {
    "spacex": (121, "SpaceX", "SpX", "Commercial", "USA"),
    "casc": (88, "China Aerospace Science and Technology Corporation", "CASC", "Government", "CHN"),
    "orienspace": (1080, "Orienspace Technology", "OrienSpace", "Commercial", "CHN"),
    "cas": (1040, "CAS Space", "CAS", "Commercial", "CHN"),
    "blue": (141, "Blue Origin", "BO", "Commercial", "USA"),
    "arianespace": (115, "Arianespace", "ASA", "Commercial", "FRA"),
    "nasa": (44, "National Aeronautics and Space Administration", "NASA", "Government", "USA"),
    "soviet": (66, "Soviet Space Program", "CCCP", "Government", "RUS"),
    "roscosmos": (63, "Russian Federal Space Agency (ROSCOSMOS)", "RFSA", "Government", "RUS"),
    "ula": (124, "United Launch Alliance", "ULA", "Commercial", "USA"),
    "rocketlab": (147, "Rocket Lab", "RL", "Commercial", "USA"),
    "isro": (31, "Indian Space Research Organization", "ISRO", "Government", "IND"),
    "mhi": (98, "Mitsubishi Heavy Industries", "MHI", "Commercial", "JPN"),
    "usaf": (161, "United States Air Force", "USAF", "Government", "USA"),
    "northrop": (257, "Northrop Grumman Space Systems", "NGSS", "Commercial", "USA"),
}
# key: id, configuration name, full name, family, maiden year (fixture ids where they exist)
ROCKETS = {
    "sputnik": (468, "Sputnik 8K71PS", "Sputnik 8K71PS", "R-7", 1957),
    "vostok": (469, "Vostok-K", "Vostok-K 8K72K", "R-7", 1960),
    "soyuz-u": (27, "Soyuz-U", "Soyuz-U 11A511U", "Soyuz", 1973),
    "molniya": (470, "Molniya-M", "Molniya-M 8K78M", "R-7", 1960),
    "kosmos": (471, "Kosmos-3M", "Kosmos-3M 11K65M", "Kosmos", 1967),
    "proton-k": (472, "Proton-K", "Proton-K 8K82K", "Proton", 1967),
    "thor-delta": (480, "Thor-Delta", "Thor-Delta DM-19", "Delta", 1960),
    "atlas-agena": (478, "Atlas-Agena", "Atlas LV-3 Agena-D", "Atlas", 1960),
    "titan": (477, "Titan II GLV", "Titan II GLV", "Titan", 1964),
    "saturn-ib": (475, "Saturn IB", "Saturn IB", "Saturn", 1966),
    "saturn-v": (474, "Saturn V", "Saturn V", "Saturn", 1967),
    "shuttle": (476, "Space Shuttle", "Space Shuttle", "Space Shuttle", 1981),
    "delta-ii": (479, "Delta II", "Delta II 7925", "Delta", 1989),
    "ariane-4": (12, "Ariane 4", "Ariane 44L", "Ariane", 1988),
    "ariane-5": (215, "Ariane 5", "Ariane 5 ECA+", "Ariane", 1996),
    "ariane-6": (521, "Ariane 6", "Ariane 62", "Ariane", 2024),
    "soyuz-2": (134, "Soyuz 2.1b", "Soyuz 2.1b/Fregat-M", "Soyuz", 2006),
    "proton-m": (473, "Proton-M", "Proton-M/Briz-M", "Proton", 2001),
    "lm-2d": (22, "Long March 2D", "Long March 2D", "Long March", 1992),
    "lm-2f": (23, "Long March 2F", "Long March 2F/G", "Long March", 1999),
    "lm-3b": (50, "Long March 3B/E", "Long March 3B/E", "Long March", 2007),
    "lm-5": (198, "Long March 5", "Long March 5", "Long March", 2016),
    "lm-7a": (216, "Long March 7A", "Long March 7A", "Long March", 2020),
    "gravity-1": (503, "Gravity-1", "Gravity-1", None, 2024),
    "kinetica-1": (483, "Kinetica 1", "Kinetica 1", None, 2022),
    "pslv": (486, "PSLV", "PSLV-XL", "PSLV", 1993),
    "h-iia": (487, "H-IIA", "H-IIA 202", "H-II", 2001),
    "atlas-v": (481, "Atlas V", "Atlas V 551", "Atlas", 2002),
    "delta-iv": (482, "Delta IV Heavy", "Delta IV Heavy", "Delta", 2004),
    "vulcan": (484, "Vulcan", "Vulcan VC4S", "Vulcan", 2024),
    "falcon-9": (164, "Falcon 9", "Falcon 9 Block 5", "Falcon", 2010),
    "falcon-heavy": (161, "Falcon Heavy", "Falcon Heavy", "Falcon", 2018),
    "starship": (522, "Starship", "Starship", "Starship", 2023),
    "electron": (485, "Electron", "Electron", "Electron", 2017),
    "new-shepard": (137, "New Shepard", "New Shepard", "New Shepard", 2015),
    "antares": (489, "Antares", "Antares 230+", "Antares", 2013),
    "pegasus": (492, "Pegasus XL", "Pegasus XL", "Pegasus", 1994),
    "sls": (488, "SLS Block 1", "Space Launch System Block 1", "Space Launch System", 2022),
}


def _table(text: str) -> list[list[str]]:
    """Rows of a text table: cells between `|`, blank lines and `#` comments skipped."""
    rows = [line.split("|") for line in text.strip().splitlines() if not line.startswith("#")]
    return [[cell.strip() for cell in row] for row in rows if row != [""]]


# Launch sites the fixtures do not have: LL2 id | name.
LOCATIONS = {
    int(ident): name
    for ident, name in _table("""
27  | Kennedy Space Center, FL, USA
15  | Baikonur Cosmodrome, Republic of Kazakhstan
6   | Plesetsk Cosmodrome, Russian Federation
113 | Vostochny Cosmodrome, Siberia, Russian Federation
12  | Cape Canaveral SFS, FL, USA
11  | Vandenberg SFB, CA, USA
13  | Kourou, French Guiana
17  | Jiuquan Satellite Launch Center, People's Republic of China
18  | Taiyuan Satellite Launch Center, People's Republic of China
8   | Wenchang Space Launch Site, People's Republic of China
14  | Satish Dhawan Space Centre, India
26  | Tanegashima Space Center, Japan
10  | Rocket Lab Launch Complex, Mahia Peninsula, New Zealand
21  | Wallops Island, Virginia, USA
143 | SpaceX Starbase, TX, USA
24  | Air launch to orbit
""")
}
# Pads the fixtures do not have: key | LL2 id | name | location id | latitude | longitude.
# The last is LL2's placeholder for an air launch, at 0,0, which feeds must not map.
EXTRA_PADS = {
    key: (int(ident), name, int(location), float(lat), float(lon))
    for key, ident, name, location, lat, lon in _table("""
39b          | 88  | Launch Complex 39B           | 27  | 28.627  | -80.621
1/5          | 1   | 1/5 (Gagarin's Start)        | 15  | 45.92   | 63.342
81/24        | 2   | 81/24                        | 15  | 46.071  | 62.985
43/4         | 133 | 43/4                         | 6   | 62.92   | 40.457
vostochny    | 200 | Site 1S                      | 113 | 51.884  | 128.334
17a          | 7   | Launch Complex 17A           | 12  | 28.447  | -80.565
37b          | 34  | Space Launch Complex 37B     | 12  | 28.531  | -80.565
41           | 29  | Space Launch Complex 41      | 12  | 28.583  | -80.583
3e           | 19  | Space Launch Complex 3E      | 11  | 34.64   | -120.589
ela-2        | 76  | Ariane Launch Area 2         | 13  | 5.232   | -52.775
ela-4        | 78  | Ariane Launch Area 4         | 13  | 5.26    | -52.79
jiuquan-921  | 140 | Launch Area 4 (SLS-1 / 921)  | 17  | 40.958  | 100.291
taiyuan      | 131 | Launch Complex 9             | 18  | 38.849  | 111.608
wenchang-101 | 175 | 101                          | 8   | 19.614  | 110.951
slp          | 81  | Second Launch Pad            | 14  | 13.72   | 80.23
yoshinobu    | 79  | Yoshinobu Launch Complex     | 26  | 30.4    | 130.975
lc-1a        | 173 | Rocket Lab Launch Complex 1A | 10  | -39.262 | 177.865
wallops-0a   | 38  | Launch Area 0A               | 21  | 37.834  | -75.488
olp-1        | 188 | Orbital Launch Pad 1         | 143 | 25.997  | -97.157
air          | 999 | Air launch to orbit          | 24  | 0.0     | 0.0
""")
}
# The fixture pads (tests/data/launches), by their LL2 id.
FIXTURE_PADS = {
    "slc-4e": 16, "slc-40": 80, "39a": 87, "ela-3": 77, "wenchang-201": 176, "31/6": 20,
    "corn-ranch": 90, "xichang-3": 66, "xichang-2": 45, "yellow-sea": 255, "olp-2": 235,
    "jiuquan-130": 151,
}  # fmt: skip
# abbrev: LL2 id, name
ORBITS = {
    "LEO": (8, "Low Earth Orbit"), "GTO": (2, "Geostationary Transfer Orbit"),
    "SSO": (17, "Sun-Synchronous Orbit"), "PO": (13, "Polar Orbit"), "Sub": (15, "Suborbital"),
    "L2": (16, "Sun-Earth L2"), "MEO": (9, "Medium Earth Orbit"),
    "GEO": (1, "Geostationary Orbit"), "TLI": (6, "Lunar Orbit"),
    "Helio": (5, "Heliocentric N/A"), "N/A": (25, "Unknown"),
}  # fmt: skip
# Programs the fixtures name (events and launches), by LL2 id.
ISS, STARSHIP, CCP, CRS, SOYUZ, CLEP, TIANGONG, SHENZHOU, STARLINK = 17, 1, 5, 11, 8, 18, 19, 7, 25


@dataclass(frozen=True)
class Mission:
    name: str  # a pattern: {n} counts the missions of that name, {g} a Starlink shell
    orbit: str  # an ORBITS key
    kind: str  # LL2's mission type
    programs: tuple[int, ...]


@dataclass(frozen=True)
class Line:
    """A provider flying one rocket from its pads in an era, and what it flies."""

    rocket: str
    provider: str
    pads: tuple[str, ...]
    first: int  # year
    last: int | None  # year; None: still flying
    weights: tuple[tuple[int, float], ...]  # (from year, launches a year in that share)
    missions: tuple[Mission, ...] = ()
    odds: tuple[float, ...] = ()  # of each mission

    def weight(self, year: int) -> float:
        if year < self.first or (self.last is not None and year > self.last):
            return 0.0
        return max((w for start, w in self.weights if year >= start), default=0.0)


# rocket | provider | pads | first year | last year | weights from a year on
_LINES = """
sputnik      | soviet      | 1/5                 | 1957 | 1958 | 1957:3
vostok       | soviet      | 1/5 31/6            | 1959 | 1965 | 1959:8
soyuz-u      | soviet      | 1/5 31/6 43/4       | 1966 | 1991 | 1966:40
molniya      | soviet      | 43/4 1/5            | 1964 | 1991 | 1964:10
kosmos       | soviet      | 43/4                | 1967 | 1991 | 1967:18
proton-k     | soviet      | 81/24               | 1965 | 1991 | 1965:9
thor-delta   | nasa        | 17a slc-4e          | 1958 | 1988 | 1958:14
atlas-agena  | usaf        | 17a 3e              | 1960 | 1978 | 1960:8
titan        | nasa        | 37b                 | 1964 | 1966 | 1964:5
saturn-ib    | nasa        | 37b 39b             | 1966 | 1975 | 1966:1.5
saturn-v     | nasa        | 39a 39b             | 1967 | 1973 | 1967:2
shuttle      | nasa        | 39a 39b             | 1981 | 2011 | 1981:5
delta-ii     | ula         | 17a slc-4e          | 1989 | 2018 | 1989:7
ariane-4     | arianespace | ela-2               | 1988 | 2003 | 1988:7
ariane-5     | arianespace | ela-3               | 1996 | 2023 | 1996:5
ariane-6     | arianespace | ela-4               | 2024 |      | 2024:4
soyuz-2      | roscosmos   | 1/5 31/6 43/4 vostochny | 1992 |  | 1992:14 2015:12
proton-m     | roscosmos   | 81/24               | 1992 | 2023 | 1992:8 2016:3
lm-2d        | casc        | jiuquan-130 taiyuan | 1992 |      | 1992:3 2010:8 2018:14 2023:20
lm-3b        | casc        | xichang-2 xichang-3 | 1996 |      | 1996:3 2010:8 2018:12
lm-7a        | casc        | wenchang-201        | 2020 |      | 2020:3
lm-2f        | casc        | jiuquan-921         | 1999 |      | 1999:1 2021:3
lm-5         | casc        | wenchang-101        | 2016 |      | 2016:2
gravity-1    | orienspace  | yellow-sea          | 2024 |      | 2024:1
kinetica-1   | cas         | jiuquan-130         | 2022 |      | 2022:2
pslv         | isro        | slp                 | 1993 |      | 1993:3 2010:5
h-iia        | mhi         | yoshinobu           | 2001 | 2025 | 2001:3
atlas-v      | ula         | 41 3e               | 2002 | 2025 | 2002:7
delta-iv     | ula         | 37b 3e              | 2004 | 2024 | 2004:2.5
vulcan       | ula         | 41                  | 2024 |      | 2024:3
falcon-9     | spacex      | slc-40 39a slc-4e | 2010 | | 2010:2 2017:16 2020:30 2022:60 2024:110
falcon-heavy | spacex      | 39a                 | 2018 |      | 2018:1.5
starship     | spacex      | olp-2 olp-1         | 2023 |      | 2023:3 2025:6
electron     | rocketlab   | lc-1a               | 2017 |      | 2017:4 2021:10
new-shepard  | blue        | corn-ranch          | 2015 |      | 2015:2.5
antares      | northrop    | wallops-0a          | 2013 | 2023 | 2013:1.5
pegasus      | northrop    | air                 | 1994 |      | 1994:0.8
sls          | nasa        | 39b                 | 2022 |      | 2022:0
"""
# rocket | odds | mission | orbit | mission type | programs
_MISSIONS = f"""
sputnik      | 1 | Sputnik {{n}}          | LEO   | Communications
vostok       | 1 | Vostok {{n}}           | LEO   | Human Exploration
vostok       | 1 | Luna {{n}}             | TLI   | Planetary Science
vostok       | 1 | Kosmos {{n}}           | LEO   | Government/Top Secret
soyuz-u      | 1 | Kosmos {{n}}           | LEO   | Government/Top Secret
soyuz-u      | 1 | Soyuz T-{{n}}          | LEO   | Human Exploration | {SOYUZ}
soyuz-u      | 1 | Progress {{n}}         | LEO   | Resupply | {SOYUZ}
soyuz-u      | 1 | Resurs-F {{n}}         | LEO   | Earth Science
molniya      | 1 | Molniya-1-{{n}}        | GTO   | Communications
molniya      | 1 | Kosmos {{n}}           | LEO   | Government/Top Secret
kosmos       | 1 | Kosmos {{n}}           | LEO   | Government/Top Secret
proton-k     | 1 | Gorizont {{n}}         | GTO   | Communications
proton-k     | 1 | Raduga {{n}}           | GTO   | Communications
proton-k     | 1 | Kosmos {{n}}           | GTO   | Government/Top Secret
thor-delta   | 1 | Explorer {{n}}         | LEO   | Astrophysics
thor-delta   | 1 | Intelsat {{n}}         | GTO   | Communications
thor-delta   | 1 | Landsat {{n}}          | SSO   | Earth Science
thor-delta   | 1 | TIROS-{{n}}            | PO    | Earth Science
atlas-agena  | 3 | OPS {{n}}              | LEO   | Government/Top Secret
atlas-agena  | 1 | Mariner {{n}}          | Helio | Planetary Science
titan        | 1 | Gemini {{n}}           | LEO   | Human Exploration
saturn-ib    | 1 | Apollo {{n}}           | LEO   | Human Exploration
saturn-ib    | 1 | Skylab {{n}}           | LEO   | Human Exploration
saturn-v     | 1 | Apollo {{n}}           | TLI   | Human Exploration
shuttle      | 1 | STS-{{n}}              | LEO   | Human Exploration | {ISS}
delta-ii     | 1 | GPS IIR-{{n}}          | MEO   | Navigation
delta-ii     | 1 | Iridium {{n}}          | LEO   | Communications
delta-ii     | 1 | Globalstar {{n}}       | LEO   | Communications
ariane-4     | 1 | Intelsat {{n}}         | GTO   | Communications
ariane-4     | 1 | SPOT {{n}}             | SSO   | Earth Science
ariane-4     | 1 | Eutelsat {{n}}         | GTO   | Communications
ariane-5     | 3 | Eutelsat {{n}}         | GTO   | Communications
ariane-5     | 1 | ATV-{{n}}              | LEO   | Resupply | {ISS}
ariane-5     | 1 | Galileo FOC-{{n}}      | MEO   | Navigation
ariane-6     | 1 | Galileo L{{n}}         | MEO   | Navigation
ariane-6     | 1 | CSO-{{n}}              | SSO   | Government/Top Secret
soyuz-2      | 1 | Soyuz MS-{{n}}         | LEO   | Human Exploration | {ISS} {SOYUZ}
soyuz-2      | 2 | Progress MS-{{n}}      | LEO   | Resupply | {ISS} {SOYUZ}
soyuz-2      | 3 | Kosmos {{n}}           | LEO   | Government/Top Secret
soyuz-2      | 1 | OneWeb {{n}}           | PO    | Communications
soyuz-2      | 1 | Glonass-M {{n}}        | MEO   | Navigation
proton-m     | 1 | Ekspress-AM{{n}}       | GTO   | Communications
proton-m     | 1 | Luch-5{{n}}            | GTO   | Communications
lm-2d        | 2 | Yaogan-{{n}}           | SSO   | Government/Top Secret
lm-2d        | 1 | Shiyan-{{n}}           | SSO   | Technology
lm-2d        | 1 | Gaofen-{{n}}           | SSO   | Earth Science
lm-3b        | 1 | Beidou-3 M{{n}}        | MEO   | Navigation
lm-3b        | 1 | Tianlian II-{{n}}      | GTO   | Communications
lm-3b        | 1 | Unknown Payload        | N/A   | Unknown
lm-7a        | 1 | Unknown Payload        | N/A   | Unknown
lm-7a        | 1 | Shiyan-{{n}}           | GTO   | Technology
lm-2f        | 1 | Shenzhou {{n}}         | LEO   | Human Exploration | {SHENZHOU} {TIANGONG}
lm-5         | 1 | Chang'e {{n}}          | TLI   | Lunar Exploration | {CLEP}
lm-5         | 1 | Tianwen-{{n}}          | Helio | Planetary Science
gravity-1    | 1 | Unknown Payload        | N/A   | Unknown
kinetica-1   | 1 | Unknown Payload        | N/A   | Unknown
kinetica-1   | 1 | Lijian-{{n}}           | SSO   | Earth Science
pslv         | 4 | PSLV-C{{n}}            | SSO   | Earth Science
pslv         | 1 | Chandrayaan-{{n}}      | TLI   | Lunar Exploration
h-iia        | 1 | QZS-{{n}}              | GEO   | Navigation
h-iia        | 1 | IGS-Optical {{n}}      | SSO   | Government/Top Secret
atlas-v      | 2 | NROL-{{n}}             | LEO   | Government/Top Secret
atlas-v      | 2 | AEHF-{{n}}             | GTO   | Communications
atlas-v      | 1 | Starliner OFT-{{n}}    | LEO   | Test Flight | {CCP} {ISS}
delta-iv     | 1 | NROL-{{n}}             | LEO   | Government/Top Secret
delta-iv     | 1 | WGS-{{n}}              | GTO   | Communications
vulcan       | 2 | USSF-{{n}}             | GEO   | Government/Top Secret
vulcan       | 1 | Dream Chaser SNC-{{n}} | LEO   | Resupply | {CRS} {ISS}
falcon-9     | 9 | Starlink Group {{g}}-{{n}} | LEO | Communications | {STARLINK}
falcon-9     | 1 | Transporter-{{n}}      | SSO   | Dedicated Rideshare
falcon-9     | 1 | Crew-{{n}}             | LEO   | Human Exploration | {CCP} {ISS}
falcon-9     | 1 | CRS-{{n}}              | LEO   | Resupply | {CRS} {ISS}
falcon-9     | 1 | NROL-{{n}}             | LEO   | Government/Top Secret
falcon-9     | 1 | IM-{{n}}               | TLI   | Lunar Exploration | {ARTEMIS}
falcon-9     | 1 | Bandwagon-{{n}}        | LEO   | Dedicated Rideshare
falcon-9     | 1 | GPS III SV{{n}}        | MEO   | Navigation
falcon-heavy | 1 | USSF-{{n}}             | GEO   | Government/Top Secret
falcon-heavy | 1 | ViaSat-{{n}}           | GTO   | Communications
falcon-heavy | 1 | Gateway HALO {{n}}     | TLI   | Human Exploration | {ARTEMIS}
starship     | 3 | Flight {{n}}           | Sub   | Test Flight | {STARSHIP}
starship     | 1 | HLS Demo {{n}}         | TLI   | Human Exploration | {STARSHIP} {ARTEMIS}
electron     | 2 | Unknown Payload        | N/A   | Unknown
electron     | 1 | BlackSky Gen-2 {{n}}   | LEO   | Earth Science
electron     | 1 | Synspective StriX {{n}} | SSO  | Earth Science
electron     | 1 | Kinéis {{n}}           | LEO   | Communications
new-shepard  | 1 | NS-{{n}}               | Sub   | Tourism
antares      | 1 | NG-{{n}}               | LEO   | Resupply | {CRS} {ISS}
pegasus      | 1 | Unknown Payload        | N/A   | Unknown
pegasus      | 1 | TacRL-{{n}}            | LEO   | Government/Top Secret
"""


def _lines() -> dict[str, Line]:
    missions: dict[str, list[tuple[float, Mission]]] = {}
    for rocket, odds, name, orbit, kind, *programs in _table(_MISSIONS):
        ids = tuple(int(p) for p in " ".join(programs).split())
        missions.setdefault(rocket, []).append((float(odds), Mission(name, orbit, kind, ids)))
    lines = {}
    for rocket, provider, pads, first, last, weights in _table(_LINES):
        steps = tuple((int(y), float(w)) for y, w in (s.split(":") for s in weights.split()))
        flown = missions.get(rocket, [])
        lines[rocket] = Line(
            rocket,
            provider,
            tuple(pads.split()),
            int(first),
            int(last) if last else None,
            steps,
            tuple(m for _, m in flown),
            tuple(o for o, _ in flown),
        )
    return lines


LINES = _lines()
# Launches flown by their own line whatever the dice say: name, NET, precision id, rocket,
# mission, window (None: it opens and closes at the NET).
FIXED = (
    (
        "Sputnik 8K71PS | Sputnik 1",
        FIRST_LAUNCH,
        0,
        "sputnik",
        Mission("Sputnik 1", "LEO", "Technology", ()),
        None,
    ),
    (
        ARTEMIS_I,
        ARTEMIS_I_NET,
        0,
        "sls",
        Mission("Artemis I", "TLI", "Lunar Exploration", (ARTEMIS,)),
        (datetime(2022, 11, 16, 6, 4, tzinfo=UTC), datetime(2022, 11, 16, 8, 4, tzinfo=UTC)),
    ),
    (
        "SLS Block 1 | Artemis II",
        datetime(2026, 4, 1, 22, 35, 12, tzinfo=UTC),
        0,
        "sls",
        Mission("Artemis II", "TLI", "Human Exploration", (ARTEMIS,)),
        None,
    ),
    (
        "SLS Block 1 | Artemis III",
        datetime(2028, 6, 30, tzinfo=UTC),
        12,
        "sls",
        Mission("Artemis III", "TLI", "Human Exploration", (ARTEMIS,)),
        None,
    ),
)
WEATHER = (
    "Cumulus Clouds",
    "Cumulus Clouds, Flight Through Precipitation",
    "Liftoff Winds, Thick Cloud Layers",
    "Upper-Level Wind Shear",
    "Booster Recovery Weather",
    "Anvil Clouds, Lightning",
    "Surface Electric Fields",
)
UPDATE_NOTES = (
    "Now targeting {when}.",
    "NET moved to {when}.",
    "Weather {p}% GO for launch.",
    "Scrubbed due to weather; new NET {when}.",
    "Static fire complete.",
    "Launch vehicle rolled out to the pad.",
    "Official webcast added.",
    "Launch successful!",
    "Payload separation confirmed.",
    "Added launch.",
)
FAIL_REASONS = (
    "Second stage shut down early; the payload did not reach orbit.",
    "Anomaly shortly after liftoff; vehicle lost.",
    "Fairing failed to separate.",
)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP)


def _clone(value: Any) -> Any:
    """A deep copy of JSON data (several times faster than copy.deepcopy)."""
    if type(value) is dict:
        return {k: _clone(v) for k, v in value.items()}
    if type(value) is list:
        return [_clone(v) for v in value]
    return value


def _video_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(11))


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _Slugs:
    """LL2's slugs are unique: the second "Unknown Payload" gets "-2"."""

    def __init__(self) -> None:
        self.used: Counter[str] = Counter()

    def __call__(self, name: str) -> str:
        base = _slugify(name) or "launch"
        self.used[base] += 1
        return base if self.used[base] == 1 else f"{base}-{self.used[base]}"


def _precision(ident: int) -> dict[str, Any]:
    name, abbrev = PRECISIONS[ident]
    return {"id": ident, "name": name, "abbrev": abbrev, "description": f"Known to the {name}."}


def _status(ident: int) -> dict[str, Any]:
    name, abbrev, description = STATUSES[ident]
    return {"id": ident, "name": name, "abbrev": abbrev, "description": description}


def _vague_net(moment: datetime, precision: int) -> tuple[datetime, int]:
    """LL2 dates a vague NET at the end of its period (H1 2026 is 2026-06-30); a quarter or
    half (any of 8-11, 12-13) becomes the one `moment` falls in."""
    year, month = moment.year, moment.month
    if precision == 7:
        first_next = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return first_next - timedelta(days=1), precision
    if precision in (8, 9, 10, 11):
        quarter = (month - 1) // 3
        end = datetime(year + quarter // 3, (3 * quarter + 3) % 12 + 1, 1, tzinfo=UTC)
        return end - timedelta(days=1), 8 + quarter
    if precision in (12, 13):
        if month <= 6:
            return datetime(year, 6, 30, tzinfo=UTC), 12
        return datetime(year, 12, 31, tzinfo=UTC), 13
    if precision == 14:
        return datetime(year, 12, 31, tzinfo=UTC), precision
    return moment, precision


def _rounded(moment: datetime, precision: int, now: datetime) -> tuple[datetime, int]:
    """A date as LL2 stores it at that precision (a vague one at the end of its period);
    never moved across `now` (what is upcoming stays upcoming)."""
    moment = moment.replace(microsecond=0)
    rounded, precision = _vague_net(moment, precision)
    if precision >= 1:
        rounded = rounded.replace(second=0)
    if precision >= 2:
        rounded = rounded.replace(minute=0)
    if precision >= 5:
        rounded = rounded.replace(hour=0)
    if (rounded > now) != (moment > now):
        return moment.replace(second=0) + timedelta(minutes=1 if moment > now else 0), 1
    return rounded, precision


# ---------------------------------------------------------------------------------------
# The fixture records, moved to the 2.3.0 shape.


def _fixture_launches() -> list[dict[str, Any]]:
    """The detailed 2.2.0 launches as 2.3.0 sends them (its changelog: vid_urls/info_urls,
    image objects, launcher families, pad coordinates as numbers, no holdreason)."""
    path = next(LAUNCH_FIXTURES.glob("*mode-detailed*.json"))
    launches = []
    for raw in json.loads(path.read_text())["results"]:
        launch = _clone(raw)
        launch["response_mode"] = "detailed"
        launch.pop("type", None)
        launch.pop("holdreason", None)
        launch.pop("r_spacex_api_id", None)
        launch["launch_designator"] = None
        launch["info_urls"] = launch.pop("infoURLs", [])
        launch["vid_urls"] = launch.pop("vidURLs", [])
        launch["image"] = _image(launch.get("image"), raw["name"])
        config = launch["rocket"]["configuration"]
        family = config.pop("family", None)
        config["families"] = [{"id": 1, "name": family}] if family else []
        launches.append(launch)
    return launches


def _image(url: Any, name: str) -> dict[str, Any] | None:
    if not isinstance(url, str) or not url:
        return None
    return {
        "id": abs(hash(url)) % 10_000,
        "name": name,
        "image_url": url,
        "thumbnail_url": url,
        "credit": None,
        "license": {"id": 1, "name": "Unknown", "priority": 9, "link": None},
        "single_use": False,
        "variants": [],
    }


def _legacy_pads() -> dict[int, dict[str, Any]]:
    """Every pad of the launch fixtures (detailed and legacy), by id, in the 2.3.0 shape."""
    pads: dict[int, dict[str, Any]] = {}
    for path in sorted(LAUNCH_FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        for raw in data["results"] if isinstance(data, dict) else data:
            pad = raw.get("pad")
            if isinstance(pad, dict) and pad.get("id") not in pads:
                pad = _clone(pad)
                pad.pop("agency_id", None)
                pad["latitude"] = float(pad["latitude"])
                pad["longitude"] = float(pad["longitude"])
                pads[pad["id"]] = pad
    return pads


class _Launches:
    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.templates = _fixture_launches()
        self.slugs = _Slugs()
        self.counters: Counter[str] = Counter()
        pads = _legacy_pads()
        template_pad = pads[16]
        self.pads = {key: pads[ident] for key, ident in FIXTURE_PADS.items()}
        for key, (ident, name, loc_id, lat, lon) in EXTRA_PADS.items():
            loc_name = LOCATIONS[loc_id]
            pad = _clone(template_pad)
            pad.update(
                id=ident,
                url=f"{API}/pads/{ident}/",
                name=name,
                latitude=lat,
                longitude=lon,
                map_url=f"https://www.google.com/maps?q={lat},{lon}",
                description=f"{name}, {loc_name}.",
                wiki_url=None,
            )
            pad["location"].update(id=loc_id, url=f"{API}/locations/{loc_id}/", name=loc_name)
            self.pads[key] = pad
        self.providers = self._providers()
        self.configs = self._configs()
        self.programs = _programs()
        self.made_by: dict[tuple[str, str], dict[str, Any]] = {}

    def _providers(self) -> dict[str, dict[str, Any]]:
        template = self.templates[0]["launch_service_provider"]
        made = {}
        for key, (ident, name, abbrev, kind, country) in PROVIDERS.items():
            provider = _clone(template)
            provider.update(
                id=ident,
                url=f"{API}/agencies/{ident}/",
                name=name,
                abbrev=abbrev,
                type={"id": 3 if kind == "Commercial" else 1, "name": kind},
                country_code=country,
                description=f"{name} ({abbrev}).",
                founding_year=1950 + ident % 60,
            )
            made[key] = provider
        return made

    def _configs(self) -> dict[str, dict[str, Any]]:
        template = self.templates[0]["rocket"]["configuration"]
        made = {}
        for key, (ident, name, full_name, family, maiden) in ROCKETS.items():
            config = _clone(template)
            config.update(
                id=ident,
                url=f"{API}/launcher_configurations/{ident}/",
                name=name,
                full_name=full_name,
                families=[{"id": ident % 97, "name": family}] if family else [],
                maiden_flight=f"{maiden}-01-01",
                description=f"{full_name}.",
                program=[],
            )
            made[key] = config
        return made

    def build(self) -> list[dict[str, Any]]:
        rng, now = self.rng, self.now
        fixed = [f for f in FIXED if f[1] <= now + timedelta(days=730)]
        upcoming = UPCOMING_LAUNCHES - sum(1 for f in fixed if f[1] > now)
        past = LAUNCHES - len(fixed) - upcoming
        nets = _spread(rng, FIRST_LAUNCH, now - timedelta(hours=1), past, _launch_rate)
        nets += [
            now + timedelta(days=730 * rng.random() ** 1.7, seconds=60) for _ in range(upcoming)
        ]
        nets.sort()
        launches = []
        for net in nets:
            line = self._line(net.year)
            mission = rng.choices(line.missions, line.odds)[0]
            launches.append(self._launch(net, line, self._mission_name(mission.name), mission))
        for name, net, precision, rocket, mission, window in fixed:
            launch = self._launch(net, LINES[rocket], mission.name, mission, precision)
            assert launch["name"] == name
            opens, closes = window or (net, net)
            launch.update(window_start=_stamp(opens), window_end=_stamp(closes))
            launches.append(launch)
        launches.sort(key=lambda x: (x["net"], x["id"]))
        self._bulk_edit(launches)
        assert len(launches) == LAUNCHES
        assert sum(1 for x in launches if x["name"] == ARTEMIS_I) == 1
        return launches

    def _line(self, year: int) -> Line:
        lines = [line for line in LINES.values() if line.weight(year) > 0]
        return self.rng.choices(lines, [line.weight(year) for line in lines])[0]

    def _mission_name(self, pattern: str) -> str:
        self.counters[pattern] += 1
        number = self.counters[pattern]
        group = 1 + (number // 40) % 12
        return pattern.format(n=number, g=group)

    def _launch(
        self,
        net: datetime,
        line: Line,
        mission_name: str,
        mission: Mission,
        precision: int | None = None,
    ) -> dict[str, Any]:
        rng, now = self.rng, self.now
        orbit, kind, program_ids = mission.orbit, mission.kind, mission.programs
        template = self.templates[rng.randrange(len(self.templates))]
        launch_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        config = self._config(line)
        name = f"{config['name']} | {mission_name}"
        ahead = net - now
        if precision is None:
            precision = self._net_precision(net, ahead)
        net, precision = _rounded(net, precision, now)
        status = self._status_id(net, ahead)
        edited = self._last_updated(net)
        window = rng.choice((0, 0, 0, 30, 60, 120, 240))
        orbit_id, orbit_name = ORBITS[orbit]
        videos = [] if net.year < 2005 else template["vid_urls"]  # no webcasts back then
        # A new object wherever this launch differs; what it shares with others (its
        # provider, pad, rocket configuration, programs, timeline) is one object, as it is
        # one row in LL2's database.
        launch = dict(template)
        launch.update(
            id=launch_id,
            url=f"{API}/launches/{launch_id}/",
            flightclub_url=f"https://flightclub.io/result?llId={launch_id}",
            name=name,
            slug=self.slugs(name),
            net=_stamp(net),
            net_precision=_precision(precision),
            window_start=_stamp(net - timedelta(minutes=window // 2)),
            window_end=_stamp(net + timedelta(minutes=window)),
            status=_status(status),
            last_updated=_stamp(edited),
            probability=rng.choice((None, 40, 70, 80, 90, 95)) if ahead.days < 14 else None,
            failreason=rng.choice(FAIL_REASONS) if status in (4, 7) else "",
            launch_service_provider=self.providers[line.provider],
            pad=self.pads[rng.choice(line.pads)],
            program=[self.programs[p] for p in program_ids],
            webcast_live=status == 6 or (0 <= ahead.total_seconds() < 1800 and status == 1),
            weather_concerns=self._weather(ahead, status),
            updates=self._updates(template, net, edited),
            rocket={**template["rocket"], "id": rng.randrange(1, 12_000), "configuration": config},
            mission={
                **template["mission"],
                "id": rng.randrange(1, 12_000),
                "name": mission_name,
                "type": kind,
                "orbit": {"id": orbit_id, "name": orbit_name, "abbrev": orbit},
                "description": f"{mission_name}: a {kind.lower()} mission to {orbit_name.lower()}.",
            },
            vid_urls=[
                {**video, "url": f"https://www.youtube.com/watch?v={_video_id(rng)}"}
                for video in videos
            ],
        )
        return launch

    def _config(self, line: Line) -> dict[str, Any]:
        """The rocket's configuration, made by the line's provider."""
        key = (line.rocket, line.provider)
        if key not in self.made_by:
            config = _clone(self.configs[line.rocket])
            config["manufacturer"] = self.providers[line.provider]
            self.made_by[key] = config
        return self.made_by[key]

    def _net_precision(self, net: datetime, ahead: timedelta) -> int:
        rng = self.rng
        if ahead.total_seconds() <= 0:
            if net.year >= 2015:
                return rng.choice((0, 0, 0, 1))
            return rng.choice((0, 1, 1, 2, 5))
        if ahead.days < 14:
            return rng.choice((0, 1, 1, 1, 2))
        if ahead.days < 90:
            return rng.choice((1, 2, 5, 5, 7))
        return rng.choice((5, 7, 7, 8, 9, 10, 11, 12, 13, 14))

    def _status_id(self, net: datetime, ahead: timedelta) -> int:
        roll = self.rng.random()
        if ahead.total_seconds() <= 0:
            if -ahead < timedelta(hours=2):
                return 6 if roll < 0.5 else 9
            return 3 if roll < 0.92 else 4 if roll < 0.98 else 7
        if ahead.days < 3:
            return 1 if roll < 0.7 else 8 if roll < 0.85 else 5 if roll < 0.88 else 2
        if ahead.days < 30:
            return 1 if roll < 0.4 else 8 if roll < 0.6 else 2
        return 2 if roll < 0.9 else 8

    def _last_updated(self, net: datetime) -> datetime:
        """Upcoming launches were edited in the last weeks (the nearest in the last hours);
        recent ones just after they flew; old ones whenever a librarian passed by."""
        rng, now = self.rng, self.now
        seconds = rng.randrange(60)
        if net > now:
            ahead_days = (net - now).total_seconds() / 86400
            back = timedelta(hours=min(ahead_days * 24, 24 * 40) * rng.random())
            return now - back - timedelta(seconds=seconds)
        age = now - net
        if age < timedelta(days=400):
            after = timedelta(hours=rng.expovariate(1 / 30))
        else:
            since = max(net, datetime(2020, 6, 1, tzinfo=UTC))
            after = (since - net) + (now - since) * rng.random() * 0.95
        return min(net + after + timedelta(seconds=seconds), now - timedelta(minutes=1))

    def _weather(self, ahead: timedelta, status: int) -> str | None:
        if status in (1, 8, 5) and ahead.days < 14 and self.rng.random() < 0.6:
            return self.rng.choice(WEATHER)
        if ahead.total_seconds() < 0 and -ahead < timedelta(days=1500):
            return self.rng.choice(WEATHER) if self.rng.random() < 0.2 else None
        return None

    def _updates(
        self, template: dict[str, Any], net: datetime, edited: datetime
    ) -> list[dict[str, Any]]:
        rng = self.rng
        if net.year < 2019 or rng.random() > 0.4:
            return []
        shape = template["updates"][0] if template["updates"] else {}
        notes = []
        for number in range(rng.randint(1, 15)):
            created = edited - timedelta(hours=rng.expovariate(1 / 48), seconds=number)
            note = dict(shape)
            note.update(
                id=rng.randrange(10_000, 99_999),
                comment=rng.choice(UPDATE_NOTES).format(
                    when=net.strftime("%b %d at %H:%M UTC"), p=rng.choice((40, 70, 90))
                ),
                info_url=rng.choice((None, f"https://x.com/ll2/status/{rng.getrandbits(60)}")),
                created_by=rng.choice(("LL2", "Cosmic_Penguin", "hitura-nobad")),
                created_on=_stamp(created),
            )
            notes.append(note)
        return notes

    def _bulk_edit(self, launches: list[dict[str, Any]]) -> None:
        """One old edit touched many launches in the same second (a migration, a fix to a
        whole family): more than a page of ties, which LL2 pages by id."""
        when = _stamp(self.now - timedelta(days=400))
        old = [x for x in launches if x["net"] < "2000" and x["last_updated"] > when]
        for launch in self.rng.sample(old, min(BULK_EDIT, len(old))):
            launch["last_updated"] = when


def _launch_rate(year: int) -> float:
    """Launches a year, shaped like history (orbital and a few suborbital)."""
    if year < 1958:
        return 3
    if year < 1965:
        return 40 + 12 * (year - 1958)
    if year < 1991:
        return 130
    if year < 2016:
        return 85
    return RECENT_RATES.get(year, 340)


RECENT_RATES = {2016: 90, 2017: 95, 2018: 115, 2019: 105, 2020: 120, 2021: 150, 2022: 190}
RECENT_RATES |= {2023: 230, 2024: 265, 2025: 320}


def _event_rate(year: int) -> float:
    if year < 2015:
        return 15
    if year < 2019:
        return 40
    return 100 + 10 * (year - 2019)


def _spread(rng: random.Random, start: datetime, end: datetime, count: int, rate) -> list:
    """`count` moments between `start` and `end`, as many in each year as `rate` says
    (largest remainder, so exactly `count`), each uniformly within its part of the year."""
    spans = []
    for year in range(start.year, end.year + 1):
        low = max(start, datetime(year, 1, 1, tzinfo=UTC))
        high = min(end, datetime(year + 1, 1, 1, tzinfo=UTC))
        if high > low:
            share = (high - low) / timedelta(days=365.25)
            spans.append((low, high, rate(year) * share))
    total = sum(weight for _, _, weight in spans)
    exact = [count * weight / total for _, _, weight in spans]
    counts = [math.floor(x) for x in exact]
    for index in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[
        : count - sum(counts)
    ]:
        counts[index] += 1
    moments = []
    for (low, high, _), number in zip(spans, counts, strict=True):
        seconds = int((high - low).total_seconds())
        moments += [low + timedelta(seconds=rng.randrange(seconds)) for _ in range(number)]
    return moments


def _programs() -> dict[int, dict[str, Any]]:
    """Every program the fixtures name, by id, in the 2.3.0 shape (the fixture 2.3.0 event's
    program object is the pattern; legacy ones lend their ids, names and texts)."""
    events = upstream_events()
    pattern = next(
        p for e in events if e.get("response_mode") for p in e.get("program") or [] if "image" in p
    )
    found: dict[int, dict[str, Any]] = {}
    sources = [p for e in events for p in e.get("program") or []]
    sources += [p for x in _fixture_launches() for p in x.get("program") or []]
    for raw in sources:
        if raw["id"] in found:
            continue
        program = _clone(pattern)
        for key in ("id", "name", "description", "info_url", "wiki_url", "start_date", "end_date"):
            if key in raw:
                program[key] = raw[key]
        program["url"] = f"{API}/programs/{raw['id']}/"
        found[raw["id"]] = program
    assert found[ARTEMIS]["name"] == "Artemis"
    return found


# ---------------------------------------------------------------------------------------
# Events.


def _fixture_events() -> list[dict[str, Any]]:
    """The fixture events in the 2.3.0 detailed shape (legacy ones: video_url, news_url and
    feature_image become vid_urls, info_urls and an image object)."""
    events = []
    for raw in sorted(upstream_events(), key=lambda e: e["id"]):
        event = _clone(raw)
        if "response_mode" not in event:
            video = event.pop("video_url", None)
            news = event.pop("news_url", None)
            image = event.pop("feature_image", None)
            event["vid_urls"] = (
                [
                    {
                        "priority": 10,
                        "source": "youtube.com",
                        "publisher": None,
                        "title": None,
                        "description": None,
                        "feature_image": None,
                        "url": video,
                        "type": {"id": 1, "name": "Official Webcast"},
                        "language": {"id": 1, "name": "English", "code": "en"},
                        "start_time": None,
                        "end_time": None,
                        "live": False,
                    }
                ]
                if video
                else []
            )
            event["info_urls"] = (
                [
                    {
                        "priority": 10,
                        "source": None,
                        "title": None,
                        "description": None,
                        "feature_image": None,
                        "url": news,
                        "type": {"id": 1, "name": "Official Page"},
                        "language": {"id": 1, "name": "English", "code": "en"},
                    }
                ]
                if news
                else []
            )
            event["image"] = _image(image, event["name"])
            event.update(response_mode="detailed", webcast_live=False, updates=[], agencies=[])
            event.setdefault("date_precision", None)
            event.setdefault("duration", None)
        event.pop("astronauts", None)
        events.append(event)
    return events


DURATIONS = {"EVA": "PT6H30M", "Docking": "PT2H", "Press Event": "PT1H", "Static Fire": None}


class _Events:
    def __init__(self, rng: random.Random, now: datetime, launches: list[dict[str, Any]]) -> None:
        self.rng = rng
        self.now = now
        self.templates = _fixture_events()
        self.launches = [x for x in launches if x["net"] >= "1998"]
        self.nets = [x["net"] for x in self.launches]
        self.programs = _programs()
        self.locations = sorted({e["location"] for e in self.templates if e.get("location")})
        self.slugs = _Slugs()
        self.uses: Counter[int] = Counter()

    def build(self) -> list[dict[str, Any]]:
        rng, now = self.rng, self.now
        past = EVENTS - UPCOMING_EVENTS
        dates = _spread(rng, FIRST_EVENT, now - timedelta(hours=1), past, _event_rate)
        dates += [
            now + timedelta(days=540 * rng.random() ** 1.5, seconds=60)
            for _ in range(UPCOMING_EVENTS)
        ]
        dates.sort()
        ids = sorted(rng.sample(range(100, 60_000), EVENTS))
        events = [self._event(ident, when) for ident, when in zip(ids, dates, strict=True)]
        assert len({e["id"] for e in events}) == EVENTS
        return events

    def _event(self, ident: int, when: datetime) -> dict[str, Any]:
        rng, now = self.rng, self.now
        template = self.templates[rng.randrange(len(self.templates))]
        event = _clone(template)
        self.uses[template["id"]] += 1
        name = self._name(template, when)
        ahead = when - now
        precision = self._precision(ahead)
        if precision is not None:
            when, precision = _rounded(when, precision, now)
        if when > now:
            edited = now - timedelta(days=min(60.0, ahead.days + 1) * rng.random())
        else:
            edited = when + timedelta(hours=rng.expovariate(1 / 20))
            if rng.random() < 0.1:  # a late correction
                edited += (now - edited) * rng.random()
        edited = min(edited, now - timedelta(minutes=1)) - timedelta(seconds=rng.randrange(60))
        event.update(
            id=ident,
            url=f"{API}/events/{ident}/",
            name=name,
            slug=self.slugs(name),
            date=_stamp(when),
            date_precision=_precision(precision) if precision is not None else None,
            last_updated=_stamp(edited),
            webcast_live=False,
        )
        kind = (event.get("type") or {}).get("name")
        if event.get("duration") is None and kind in DURATIONS:
            event["duration"] = DURATIONS[kind]
        if rng.random() < 0.3 and self.locations:
            event["location"] = rng.choice(self.locations)
        programs = event.get("program") or []
        if all(p["id"] != ARTEMIS for p in programs) and rng.random() < 0.04:
            programs.append(_clone(self.programs[ARTEMIS]))
        event["program"] = programs
        if event.get("launches"):
            event["launches"] = [self._launch_ref(when)]
        for video in event.get("vid_urls") or []:
            video["url"] = f"https://www.youtube.com/watch?v={_video_id(rng)}"
        return event

    def _name(self, template: dict[str, Any], when: datetime) -> str:
        name = template["name"]
        if self.uses[template["id"]] == 1:
            return name
        numbers = list(re.finditer(r"\d+", name))
        if numbers:
            last = numbers[-1]
            value = int(last.group()) + self.uses[template["id"]] - 1
            return f"{name[: last.start()]}{value}{name[last.end() :]}"
        return f"{name} ({when:%b %Y})"

    def _precision(self, ahead: timedelta) -> int | None:
        rng = self.rng
        if ahead.total_seconds() <= 0:
            return rng.choice((None, 0, 1, 1, 1, 1, 2, 5, 5))
        if ahead.days < 30:
            return rng.choice((1, 1, 2, 5))
        return rng.choice((5, 7, 7, 9, 12, 14))

    def _launch_ref(self, when: datetime) -> dict[str, Any]:
        """The launch nearest the event's date, as LL2 nests it (list mode)."""
        index = min(bisect.bisect_left(self.nets, _stamp(when)), len(self.nets) - 1)
        launch = self.launches[index]
        ref = {
            key: launch[key]
            for key in (
                "id",
                "url",
                "name",
                "slug",
                "launch_designator",
                "status",
                "last_updated",
                "net",
                "net_precision",
                "window_end",
                "window_start",
                "image",
            )
        }
        ref["response_mode"] = "list"
        ref["infographic"] = None
        return _clone(ref)


if __name__ == "__main__":  # pragma: no cover - a look by hand
    import time

    started = time.perf_counter()
    day = datetime(2026, 11, 25, 12, tzinfo=UTC)
    launches, events = big_launches(day), big_events(day)
    print(
        f"{len(launches)} launches, {len(events)} events in {time.perf_counter() - started:.2f} s"
    )
    print(f"{sum(1 for x in launches if x['net'] > _stamp(day))} upcoming launches")
    print(f"{len(json.dumps(launches)) // 2**20} MiB of launch JSON")
