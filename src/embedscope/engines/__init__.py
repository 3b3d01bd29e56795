"""Where the heavy steps run besides this process: the Ray engine (:mod:`.ray`)."""
