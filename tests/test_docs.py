"""The README stays true: every setting is documented, and the two commands are the ones CI runs."""

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
