"""Repositories: the SQL of one aggregate each, typed rows in and out (issue 10's direction)."""
