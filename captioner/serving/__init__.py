"""HTTP serving: a FastAPI app over one loaded model, batching the images of concurrent requests together."""
