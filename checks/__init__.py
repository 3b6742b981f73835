"""What is true about a link right now: extraction and checks. No Prefect, no database."""
