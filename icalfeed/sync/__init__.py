"""The sync: the passes that read LL2 into the store, and the thread that schedules them."""
