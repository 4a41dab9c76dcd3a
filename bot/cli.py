"""The `samvag` command line: parses arguments, calls one function, maps errors to exit codes.

Each command's logic lives in the module it imports (lazily, so `samvag --help` is fast).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="samvag: citizen guidance in the resident's own language.", no_args_is_help=True)
content_app = typer.Typer(help="Work with the FAQ content folder.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for editors and coordinators (no personal data).", no_args_is_help=True)
appointments_app = typer.Typer(help="Appointment requests.", no_args_is_help=True)
app.add_typer(content_app, name="content")
app.add_typer(db_app, name="db")
app.add_typer(report_app, name="report")
app.add_typer(appointments_app, name="appointments")

ContentOpt = Annotated[Path | None, typer.Option("--content", help="Content folder (default: CONTENT_DIR or ./content).")]


@content_app.command("check")
def content_check(directory: Annotated[Path | None, typer.Argument(help="Content folder.")] = None) -> None:
    """Validate a content folder and print its coverage table."""
    from bot.content.check import run_check

    raise typer.Exit(run_check(directory))


@app.command()
def ask(
    text: Annotated[str | None, typer.Argument(help="The question; read one per line from stdin if omitted.")] = None,
    content: ContentOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="The resident's language.")] = "sv",
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
) -> None:
    """Match questions against the content, as the bot would."""
    from bot.matching_cli import run_ask

    raise typer.Exit(run_ask(text=text, content=content, lang=lang, json_out=json_out))


@app.command("eval")
def evaluate(
    questions: Annotated[Path, typer.Argument(help="CSV with lang,text,expected[,kind].")],
    content: ContentOpt = None,
) -> None:
    """Measure matching accuracy on a labelled question set."""
    from bot.matching_cli import run_eval

    raise typer.Exit(run_eval(questions=questions, content=content))


@app.command()
def chat(
    lang: Annotated[str | None, typer.Option("--lang", help="Start in this language.")] = None,
) -> None:
    """Chat with samvag in this terminal: bundled content, local SQLite, no network."""
    from bot.channels.terminal import run_terminal

    raise typer.Exit(run_terminal(lang=lang))


@app.command()
def run(
    webhook: Annotated[bool, typer.Option("--webhook", help="Serve a webhook instead of long polling.")] = False,
) -> None:
    """Run the Telegram bot."""
    from bot.channels.telegram_run import run_telegram

    raise typer.Exit(run_telegram(webhook=webhook))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply database migrations (Alembic)."""
    from bot.db.migrate import upgrade

    upgrade(revision=revision)


@report_app.command("unanswered")
def report_unanswered(
    days: Annotated[int, typer.Option("--days", min=1, help="Look back this many days.")] = 30,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show this many groups.")] = 20,
    suggest: Annotated[bool, typer.Option("--suggest", help="Write proposed content changes (never applied).")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for --suggest's copy and patch.")] = None,
    content: ContentOpt = None,
) -> None:
    """Group the questions the bot could not answer, most frequent first."""
    from bot.reports.unanswered import run_unanswered

    raise typer.Exit(run_unanswered(days=days, limit=limit, suggest=suggest, out_dir=out, content_dir=content))


@report_app.command("usage")
def report_usage(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")],
    fmt: Annotated[str, typer.Option("--format", help="html, csv or md.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    questions: Annotated[list[Path] | None, typer.Option("--eval", help="Question set(s) for the appendix.")] = None,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="Leave out the matching appendix.")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="Report language (default: DEFAULT_LOCALE).")] = None,
) -> None:
    """Usage statistics for a period; counts under 5 are shown as <5."""
    from bot.reports.usage import run_usage

    raise typer.Exit(run_usage(start=start.date(), end=end.date(), fmt=fmt, output=output,
                               questions=questions, with_eval=not no_eval, lang=lang))


@appointments_app.command("export")
def appointments_export(
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day requests were made (YYYY-MM-DD).")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD).")],
    with_contact: Annotated[bool, typer.Option("--with-contact", help="Include resident key, phone, note and decline reason.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Appointment requests of a period as CSV; personal fields only with --with-contact."""
    from bot.appointments_export import run_export

    raise typer.Exit(run_export(start=start.date(), end=end.date(), with_contact=with_contact, output=output))


def main() -> None:
    app()
