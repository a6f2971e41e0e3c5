"""Measuring the decisions on labelled data: the labelled-item schema, relevance and stage
scores, grouped cross-validation, extraction against ground truth and the timeline replay.
Each measure calls the production code it measures; none re-implements it."""
