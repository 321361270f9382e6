"""What every layer may use: settings, errors, what the public may see of a failure, file
locks, byte-bounded caches.
"""
