"""Compiled scan kernels (numba): int8 dot products and Hamming distances."""
