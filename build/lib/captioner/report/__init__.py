"""The report page: renders evaluation results with image previews (computes nothing)."""
