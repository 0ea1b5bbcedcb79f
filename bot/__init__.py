"""Runtime and edges: the CLI, config loading, channels and rendering; the composition root."""
