"""Test doubles that stand in for the outside world (a local fake of Twilio's REST API)."""
