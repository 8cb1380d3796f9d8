"""A sweep's PNG figures (matplotlib, files only) and their copies as TensorBoard images."""
