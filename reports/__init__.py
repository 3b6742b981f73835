"""What we remember and tell: the history store, verdicts and reports."""
