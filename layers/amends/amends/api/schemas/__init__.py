"""What the HTTP APIs accept and answer, one module per API: each function builds only the models it serves."""
