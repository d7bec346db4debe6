"""PyTorch counterparts of cnnlib.numpy_nn."""
