"""The trainable networks and their bundles: caption decoder, frame reader, activity classifier."""
