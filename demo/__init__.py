"""Deterministic demo data: a vending operator, a venue chain and a ten-million-sale chain, loaded with COPY."""
