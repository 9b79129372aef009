"""Running the stages over many files: the folder loop and its outputs, locally or on Ray Data."""
