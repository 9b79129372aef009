"""Teacher-forced training of decoders and classifiers from the cache: batches, checkpoints, validation BLEU."""
