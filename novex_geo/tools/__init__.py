"""Analysis tools: triage, diff, grid mode and sketches."""
