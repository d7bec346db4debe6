"""Figures for the notebooks, one module per topic (``cnnlib.viz.activations``, ``cnnlib.viz.convolution``, ...).

Every function draws with matplotlib and returns the ``Figure`` (or draws on an ``ax`` it is given),
so a notebook cell is one call followed by ``plt.show()``; each has a test in ``tests/test_viz_*.py``.
"""

import cnnlib.plots  # noqa: F401,E402  the project's palette and text sizes for every figure (see cnnlib.plots)
