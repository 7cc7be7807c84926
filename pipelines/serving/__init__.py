"""Shipping a model: the logged pyfunc model, `hpo predict`, and `hpo promote` to the model registry."""
