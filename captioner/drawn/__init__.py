"""Drawn data sets, made on the spot from a seed: shapes and scenes (images), moving shapes (clips), their motions
as activity classes; the files they are written as (the Flickr8k, MSVD and UCF101 layouts) and the checks of a
caption against what was drawn. For the demos, the tests and the benchmarks: the product's stages never import
this package (the layers contract in pyproject.toml says so)."""
