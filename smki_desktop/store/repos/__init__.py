"""Repositories: the only place with SQL, one module per aggregate, typed rows in and out."""
