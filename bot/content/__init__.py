"""Content packs: model, loader with path:line errors, validation and reloading."""
