"""The README stays true: every setting and every alert kind is documented, and the two commands are the
ones CI runs."""

import re
from pathlib import Path

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme_configuration_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## Endpoints")]
    missing = [name for name in Settings.model_fields if f"`{name}`" not in table]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "./run test" in readme and "./run demo" in readme
    assert "./run test" in (ROOT / ".ci" / "run").read_text()


def test_every_alert_kind_is_in_the_readme_alert_table():
    # "The README's table lists every one with what to do" (docs/operations.md): every kind raised by
    # name in app/, and the dispatch kinds and Shiplee's gate raised through a variable.
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| alert | means | do |"):readme.index("### Health, metrics and logs")]
    source = "\n".join(p.read_text() for p in (ROOT / "app").rglob("*.py"))
    kinds = set(re.findall(r'kind="([a-z_]+)"', source)) | {"pickup_failed", "label_failed", "manifest_failed"}
    kinds |= set(re.findall(r'^GATE_ALERT = "([a-z_]+)"', source, re.M))
    assert len(kinds) > 30
    assert sorted(k for k in kinds if f"`{k}`" not in table) == []
