from typer.testing import CliRunner

from calsync import __version__
from calsync.cli import app


def test_version_command_prints_the_installed_version() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__
