"""Pure hotline rules: no Flask, SQLAlchemy, Twilio or Celery below this line."""
