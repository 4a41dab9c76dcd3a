"""Thin adapters between a channel (Telegram, terminal) and the conversation core."""
