"""bench/soak.py, briefly: phones and coordinators against a real ``formserver serve`` on the test database.

The 20-minute soak is run by hand (README › Reliability); here it runs for 12 seconds with one
Digest phone, one device-account phone and one coordinator, so that a change that breaks it (or
makes the server answer 5xx under mixed load) is caught by the suite. Its growth judgement is
checked on made-up samples: a short run is too short to judge.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))  # the benchmarks are scripts that import their neighbours

import soak  # noqa: E402


def test_a_short_soak_passes_and_reports_its_samples(settings, capsys):
    verdict = soak.soak(
        ["--minutes", "0.2", "--interval", "1", "--phones", "2", "--coordinators", "1", "--quiet",
         "--database-url", settings.database_url, "--workers", "2", "--threads", "4"]
    )
    printed = capsys.readouterr().out
    assert verdict["passed"], printed
    assert verdict["samples"] >= 10
    assert verdict["acknowledged"] > 0 and verdict["stored_once"] == verdict["acknowledged"]
    assert verdict["requests"] > verdict["acknowledged"] * 2  # HEAD and POST of each, and the coordinator's pages
    names = [metric.name for metric in verdict["metrics"]]
    assert names[0] == "server RSS, all processes" and "open file descriptors" in names and "database connections" in names
    assert all(value > 0 for _, value in verdict["metrics"][0].points)
    for line in ("server RSS, all processes", "open file descriptors", "phone household POST", "web review", "PASSED"):
        assert line in printed
    assert "growth not judged" in printed


def _metric(kind: str, values: list[float], every: float = 10) -> soak.Metric:
    return soak.Metric(kind, kind, "", [(i * every, value) for i, value in enumerate(values)])


def test_growth_is_judged_by_the_slope_of_the_second_half():
    warm_up_then_flat = [100 + min(i, 60) * 0.5 + (i % 3) * 0.4 for i in range(120)]  # 20 minutes, grows only while warming up
    assert soak.judge(_metric("rss", warm_up_then_flat)) is None
    leak = [200 + i * 0.3 for i in range(120)]  # 1.8 MiB a minute, all along
    assert "grows 1.80" in soak.judge(_metric("rss", leak))
    slow_leak = [400 + i * 0.15 for i in range(120)]  # 0.9 MiB a minute: under 1 MiB but over 10 % of 410 MiB an hour
    assert soak.judge(_metric("rss", slow_leak)) is not None
    assert soak.judge(_metric("fds", [80 + i // 6 for i in range(120)])) is not None  # one more descriptor a minute
    assert soak.judge(_metric("connections", [12] * 60 + [13, 12] * 30)) is None
    assert soak.judge(_metric("rss", [100 + i for i in range(20)], every=1)) is None  # 20 s: too short to judge
