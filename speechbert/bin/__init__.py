"""Command-line entry points: ``python -m speechbert.bin.<tool>``.

Each module defines ``get_parser()`` and ``main(argv)``; the work lives in library modules.
"""
