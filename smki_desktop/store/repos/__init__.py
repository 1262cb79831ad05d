"""Repository modules: one per aggregate, typed rows in and out (the SQL lives here)."""
