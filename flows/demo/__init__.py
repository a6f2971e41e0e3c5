"""``straitwatch demo``: a fictional site of three outlets served on 127.0.0.1 and two runs
of the monitor over it."""
