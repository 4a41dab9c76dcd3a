"""The channel-agnostic conversation core: imports no telegram, sqlmodel or typer."""
