"""Files on disk: the atomic replace, the shared config and its watcher, history, preferences."""
