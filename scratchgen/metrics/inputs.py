"""What the metric functions accept: NumPy arrays or Tensors (any device), checked and turned
into host NumPy arrays, with errors that name the function and the argument."""
import numpy

from .. import Tensor

IMAGE_SHAPE = (1, 28, 28)


def as_numpy(value, function, argument):
    """`value` (a Tensor, an array or nested lists) as a NumPy array on the host."""
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    array = numpy.asarray(value)
    if array.dtype.hasobject:
        raise TypeError(f"{function}: {argument} must be numeric (an array or a Tensor), got {type(value).__name__}")
    return array


def as_mnist_images(images, function, argument="images"):
    """(N, 1, 28, 28) float32 images with pixels in [0, 1], from (N, 1, 28, 28), (N, 28, 28) or
    (N, 784) input: the classifier's input, and what every model's `sample` returns."""
    array = as_numpy(images, function, argument)
    if array.ndim not in (2, 3, 4) or len(array) == 0 or array[0].size != numpy.prod(IMAGE_SHAPE):
        raise ValueError(f"{function}: {argument} must be N >= 1 MNIST images shaped (N, 1, 28, 28), (N, 28, 28) "
                         f"or (N, 784), got shape {array.shape}")
    if array.dtype == numpy.uint8:
        raise TypeError(f"{function}: {argument} must be floats in [0, 1], got uint8 pixels (divide by 255)")
    array = array.astype(numpy.float32, copy=False).reshape(len(array), *IMAGE_SHAPE)
    if array.min() < 0 or array.max() > 1 or not numpy.isfinite(array).all():
        raise ValueError(f"{function}: {argument} must hold pixels in [0, 1], got values in "
                         f"[{array.min()}, {array.max()}] (images in [-1, 1] need (x + 1) / 2)")
    return array
