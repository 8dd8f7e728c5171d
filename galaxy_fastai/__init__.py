"""A literate fastai/PyTorch reproduction of Dai & Tong (2018), galaxy morphology classification with deep CNNs"""

__version__ = "0.1.0"
