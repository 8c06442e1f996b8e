"""One package per platform (slug = package name = CLI argument = `platform` column)."""
