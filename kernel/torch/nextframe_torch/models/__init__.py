"""One file per model, each readable alone (DiT's models.py / nanoGPT's model.py style)."""
