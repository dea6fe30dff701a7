"""`python -m sandbox [--keep-running]` (what `./run demo` runs): the sandbox demo against the simulators.

It lives outside `app/` on purpose: the production package and its Docker image carry neither the
simulators nor the embedded Postgres/Redis (the `sandbox` extra of pyproject.toml)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("command", nargs="?", default="demo", choices=["demo"])
    parser.add_argument("--keep-running", action="store_true", help="leave the stack up after the demo")
    args = parser.parse_args(argv)
    from sandbox.demo import run_demo

    sys.exit(run_demo(keep_running=args.keep_running))


if __name__ == "__main__":
    main()
