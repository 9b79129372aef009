"""The small base every stage sits on: errors, atomic writes, JSON files, progress, the Keras backend and compiling."""
