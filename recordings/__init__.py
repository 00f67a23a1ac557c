"""The recordings catalogue, uploads and YouTube publishing."""
