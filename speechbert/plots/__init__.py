"""Figures (PNG and SVG, matplotlib's Agg backend): training curves and alignment plots.

matplotlib is imported inside the functions, so importing this package (as the trainer does)
costs nothing until a plot is drawn.
"""
