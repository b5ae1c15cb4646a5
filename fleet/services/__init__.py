"""Write services of the fleet app: sales imports, DEX ingestion, import jobs."""
