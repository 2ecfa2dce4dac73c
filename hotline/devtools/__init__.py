"""Developer tools, never part of a real deployment: the demo, the texting simulator (its page,
its carrier and its command-line client).
"""
