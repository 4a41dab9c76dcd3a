from typer.testing import CliRunner

from bot.cli import app


def test_cli_lists_its_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("chat", "ask", "eval", "run", "content", "db"):
        assert command in result.output
