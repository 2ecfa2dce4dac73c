"""Support code the tests and the benchmarks share, outside the installed package: a local fake
of Twilio's REST API, a PostgreSQL server of a test's own, the production stack's processes, the
benchmarks' load client, scratch databases and /proc readings."""
