"""The Twilio adapter: the only package that imports twilio."""
