"""Die HTTP-API unter /api/v1: Routen und Schemas."""
