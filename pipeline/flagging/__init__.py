"""Flagging: the rubric schema, the matching engine (spaCy), rubric evaluation, and grouping
flags into review windows."""
