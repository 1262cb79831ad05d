"""Repositories: one module per aggregate, the only place new SQL goes; typed rows in and out."""
