"""One fixed Hypothesis profile for the fuzz suites: derandomised (the same cases on every run and in CI),
bounded, no example database (nothing carried between runs), no per-example deadline (Postgres sits behind
every example on a shared 2-core machine). FUZZ_EXAMPLES scales every suite at once for a longer hunt."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "shipbridge-fuzz",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    print_blob=True,
    # The app client is one fixture shared by every example on purpose: state accumulates as in production.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile("shipbridge-fuzz")
