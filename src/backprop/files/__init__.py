"""Files: reading within limits, atomic writes, and the model file format."""
