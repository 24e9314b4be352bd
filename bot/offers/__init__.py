"""Checking a job offer: rules from content/offer_rules.yml, the analysis, and its evaluation."""
