"""The IDX file format of the MNIST files (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS").

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d sizes, each a big-endian uint32
    then        the elements, big-endian, in C order (the last dimension changes fastest)

The files are distributed gzip-compressed (`*-ubyte.gz`); `gunzip` undoes that.
"""
import gzip
import zlib

import numpy

ELEMENT_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_HEADER_BYTES = 4
_SIZE_BYTES = 4


def gunzip(compressed, source):
    """The decompressed bytes of a gzip file's contents; `source` is named in the error."""
    try:
        return gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError; a cut stream is an EOFError
        raise ValueError(f"{source}: not a complete gzip file (truncated or corrupt): {error}") from None


def parse(contents, source):
    """The array stored in the IDX bytes `contents`, in native byte order; `source` (a file
    name) is named in every error."""
    if len(contents) < _HEADER_BYTES:
        raise ValueError(f"{source}: {len(contents)} bytes is too short for an IDX header "
                         f"(at least {_HEADER_BYTES} bytes)")
    zero, type_code, ndim = contents[0:2], contents[2], contents[3]
    if zero != b"\x00\x00" or type_code not in ELEMENT_TYPES:
        raise ValueError(f"{source}: not an IDX file: magic number {contents[:4].hex()} should be 0000 "
                         f"followed by an element type in {[f'{code:02x}' for code in ELEMENT_TYPES]} "
                         "and the number of dimensions")
    data_start = _HEADER_BYTES + _SIZE_BYTES * ndim
    if len(contents) < data_start:
        raise ValueError(f"{source}: truncated IDX header: {ndim} dimensions need {data_start} header "
                         f"bytes, the file has {len(contents)} bytes")
    shape = tuple(int(size) for size in numpy.frombuffer(contents, ">u4", count=ndim, offset=_HEADER_BYTES))
    dtype = numpy.dtype(ELEMENT_TYPES[type_code])
    expected = data_start + dtype.itemsize * int(numpy.prod(shape))
    if len(contents) != expected:
        raise ValueError(f"{source}: wrong size for its IDX header: shape {shape} of {dtype.itemsize}-byte "
                         f"elements needs {expected} bytes, the file has {len(contents)} (truncated or corrupt)")
    array = numpy.frombuffer(contents, dtype, offset=data_start).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)
