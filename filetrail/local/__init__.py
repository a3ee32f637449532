"""Local mode: the pipeline on an embedded AWS emulator (moto as a real HTTP server)."""
