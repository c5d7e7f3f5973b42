"""Tools the local stack runs, obtained by name through the machine's package registries.

Each tool is built or fetched once into `~/.cache/simptu/<tool>-<version>-<spec hash>/` and
reused from there by every checkout; `make tools` obtains them all.
"""
