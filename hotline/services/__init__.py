"""Use cases. Each takes a session and its collaborators; none reaches for a global."""
