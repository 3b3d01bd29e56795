"""Reading what users bring: texts with metadata, vectors, judgements, samples and fitted-model files."""
