"""SQLModel tables, one module per domain (state, handoff, appointments, ...)."""
