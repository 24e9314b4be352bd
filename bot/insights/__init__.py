"""Insight for editors and the task force: anonymous counters of what people ask, what the bot missed, agency and
offer checks, and report figures; charts and summaries built from them (issue 16)."""
