"""cnnlib: convolutional neural networks from the ground up.

- ``cnnlib.numpy_nn``: NumPy reference layers, forward and backward written out.
- ``cnnlib.torch_nn``: the same layers in PyTorch tensor operations, on any device.
- ``cnnlib.models``, ``cnnlib.arch``, ``cnnlib.data``, ``cnnlib.train``: the case studies.
- ``cnnlib.testing``: gradient checks and comparisons used by the tests and the notebooks.
"""
from cnnlib.shapes import conv_output_size

__version__ = "0.1.0"
__all__ = ["conv_output_size", "__version__"]
