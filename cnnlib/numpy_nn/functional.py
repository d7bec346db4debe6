"""torch.nn.functional-style forward functions on NumPy arrays (re-exports land with the topic modules)."""
