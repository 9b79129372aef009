"""Scores: BLEU, METEOR, ROUGE-L, CIDEr-D over a split; top-k labels and classifier accuracy."""
