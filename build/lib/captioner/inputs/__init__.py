"""Files to pixels: image decoding and validation, clip frames, file types, JPEG decoding on the GPU."""
