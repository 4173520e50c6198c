"""Developer tools that read the repository (never used by the product at run time)."""
