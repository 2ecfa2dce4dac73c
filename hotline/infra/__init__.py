"""Infrastructure under the services: the clock, the vault, logging, the live feed, the task
queue."""
