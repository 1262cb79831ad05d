"""The `smki` command line: a thin face over the services."""
