"""Importers: runs people already have, into the tracktui store (`tracktui import tensorboard DIR`).

Idempotent: a run's id comes from where its files are, and the run remembers how many events of each file
it holds, so a second import adds nothing and a grown directory adds only what is new. A file that cannot be
read costs one line on stderr and is counted; the other files go on.
"""
