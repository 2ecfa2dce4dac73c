"""Background work: the jobs behind every task, and Celery wired into the app."""
