"""Discrete speech units (DUAL-style, textless): k-means over self-supervised speech frames.

- :mod:`speechbert.units.sampling` draws a seeded, bounded sample of frames from a feature dump;
- :mod:`speechbert.units.kmeans` fits the centroids (k-means++ and mini-batch updates);
- :mod:`speechbert.units.codebook` stores them with the facts of the features they fit;
- :mod:`speechbert.units.unit_dump` assigns every frame of a dump to its unit and writes the
  ``units`` table and a feature-dump view of it.

``doc/units.md`` describes the tools and files.
"""
