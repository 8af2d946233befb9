"""The numeric matrices of a MATLAB level-5 MAT-file (MathWorks, "MAT-File Format", ch. 1), enough
to read the static binarized MNIST as it is published (binarized_mnist.py).

    bytes 0-115    descriptive text ("MATLAB 5.0 MAT-file, ...")
    bytes 116-127  subsystem offset, version (0x0100), endian indicator "IM" (little-endian) or "MI"
    then           data elements, each an 8-byte tag (type, number of bytes) and its data padded to
                   8 bytes; a tag whose upper 16 bits are not zero is a "small" element: type and
                   size in 4 bytes, up to 4 bytes of data after them
    miCOMPRESSED   (type 15) a zlib stream holding one element (not padded)
    miMATRIX       (type 14) array flags (class in the low byte), dimensions, name, then the real
                   part, stored in any numeric type, in column-major order
"""
import struct
import zlib

import numpy

MI_MATRIX, MI_COMPRESSED = 14, 15
NUMERIC_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
NUMERIC_CLASSES = range(6, 16)  # mxDOUBLE_CLASS ... mxUINT64_CLASS
_HEADER_BYTES = 128
_TAG_BYTES = 8


def read_matrices(contents, source):
    """{name: 2-D NumPy array} of every numeric matrix in the MAT-file bytes `contents`, each in
    the type it is stored in; `source` (a file name) is named in every error."""
    if len(contents) < _HEADER_BYTES or contents[126:128] not in (b"IM", b"MI"):
        raise ValueError(f"{source}: not a MATLAB level-5 MAT-file (no 128-byte header ending in the endian "
                         "indicator IM or MI)")
    order = "<" if contents[126:128] == b"IM" else ">"
    matrices = {}
    for kind, data in _elements(contents, _HEADER_BYTES, order, source):
        if kind == MI_COMPRESSED:
            try:
                data = zlib.decompress(data)
            except zlib.error as error:
                raise ValueError(f"{source}: a compressed element is corrupt: {error}") from None
            kind, data = next(_elements(data, 0, order, source), (None, b""))
        if kind == MI_MATRIX:
            name, array = _matrix(data, order, source)
            if array is not None:
                matrices[name] = array
    return matrices


def _elements(contents, offset, order, source):
    """(type, data bytes) of each data element from `offset` to the end of `contents`."""
    while offset < len(contents):
        if len(contents) - offset < _TAG_BYTES:
            raise ValueError(f"{source}: truncated MAT-file: {len(contents) - offset} bytes left where an 8-byte "
                             "element tag should be")
        kind, size = struct.unpack_from(order + "II", contents, offset)
        if kind >> 16:  # a small element: size in the upper half, up to 4 bytes of data in the tag
            kind, size = kind & 0xFFFF, kind >> 16
            yield kind, contents[offset + 4:offset + 4 + size]
            offset += _TAG_BYTES
            continue
        end = offset + _TAG_BYTES + size
        if end > len(contents):
            raise ValueError(f"{source}: truncated MAT-file: an element of {size} bytes at byte {offset} runs past "
                             f"the end ({len(contents)} bytes)")
        yield kind, contents[offset + _TAG_BYTES:end]
        offset = end if kind == MI_COMPRESSED else end + (-size % 8)


def _matrix(data, order, source):
    """(name, array) of an miMATRIX element's data; array None for a class that is not numeric."""
    parts = list(_elements(data, 0, order, source))
    if len(parts) < 3:
        raise ValueError(f"{source}: a matrix element has {len(parts)} parts; it needs at least array flags, "
                         "dimensions and a name")
    (_, flags), (_, dims), (_, name) = parts[:3]
    array_class = struct.unpack_from(order + "I", flags)[0] & 0xFF
    name = name.decode("ascii", "replace")
    if array_class not in NUMERIC_CLASSES:
        return name, None
    shape = struct.unpack(f"{order}{len(dims) // 4}i", dims)
    if len(parts) < 4 or parts[3][0] not in NUMERIC_TYPES:
        raise ValueError(f"{source}: matrix {name!r} has no real part of a numeric type")
    kind, real = parts[3]
    dtype = numpy.dtype(order + NUMERIC_TYPES[kind])
    count = int(numpy.prod(shape))
    if len(real) != count * dtype.itemsize:
        raise ValueError(f"{source}: matrix {name!r} of shape {shape} needs {count * dtype.itemsize} bytes of "
                         f"{dtype.name}, its real part has {len(real)}")
    column_major = numpy.frombuffer(real, dtype).reshape(shape[::-1]).transpose()
    return name, numpy.ascontiguousarray(column_major, dtype.newbyteorder("="))
