"""Numeric analyses of a space's arrays: similarities and their distributions, health checks, comparison of two
spaces, compression codecs, clusters (arrays in, results out; no workspace)."""
