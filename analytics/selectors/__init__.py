"""Read functions behind the analytics API: each calls the query layer and the pure metric functions."""
