"""The stages of a run as plain functions: sources, fetch, extract, score, store, track,
alert, digest, report. Each takes the run's context and values; none imports Prefect."""
