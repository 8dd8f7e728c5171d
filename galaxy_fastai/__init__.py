"""A literate fastai/PyTorch reproduction of Dai & Tong (2018), Galaxy Morphology Classification with Deep Convolutional Neural Networks

Modules:

- `galaxy_fastai.cli`: The console scripts: `galaxy-demo`, `galaxy-train`, `galaxy-evaluate`, `galaxy-predict`, `galaxy-export` and `galaxy-benchmark`.
- `galaxy_fastai.recipes`: The paper's recipe and the improved ones as named data, and the one function that turns a network, a recipe and data into a fastai `Learner`."""

__version__ = "0.1.0"
