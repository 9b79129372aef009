"""The special tokens' ids as every `vocab.Vocabulary` numbers them, for code without Keras (the ranking, the
runtime); `search_tokens` holds the rules the search loops follow with them."""

PAD, START, END, UNK = 0, 1, 2, 3
