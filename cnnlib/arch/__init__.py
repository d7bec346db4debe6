"""Architecture tables computed from code: ``summary(model, input_size, depth=None)``.

``cnnlib.arch.tables`` holds the lecture's and the papers' tables as data, so a notebook can
print them next to what the code computes. Taught in 07_case_studies_lenet to
09_case_studies_googlenet_resnet.
"""
from cnnlib.arch import tables
from cnnlib.arch.summary import LayerRow, Summary, layer_macs, macs_by_resolution, resolution, summary

__all__ = ["summary", "Summary", "LayerRow", "layer_macs", "macs_by_resolution", "resolution", "tables"]
