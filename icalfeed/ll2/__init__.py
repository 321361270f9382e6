"""Launch Library 2's side: the only HTTP client, the hourly request budget, and the models its
JSON becomes at the boundary.
"""
