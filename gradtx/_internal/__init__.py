"""Private floor shared by every gradtx package.

The only private place other gradtx packages may import from (a test scans
the imports): argument validation, numerics helpers, optional-dependency
checks. Nothing here is public API.
"""
