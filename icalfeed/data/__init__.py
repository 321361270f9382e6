"""The data: the snapshot and its merge rules, the names catalog, the store that keeps and
serves it, and what instances share on disk or in Redis.
"""
