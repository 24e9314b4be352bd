"""Trafficking reports: filing, delivery to the task force, staff statuses, reporter follow-up."""
