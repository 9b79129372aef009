"""Tests of captioner/exporting/: exported graphs and their parity with `captioner caption`."""
