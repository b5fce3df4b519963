"""Reading submitted files: the data sheet and its header (files), the header aliases (headers),
cell parsers (parsing), and typed staging rows (staging)."""
