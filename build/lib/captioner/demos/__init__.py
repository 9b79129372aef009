"""The offline demos on drawn images, clips and activities."""
