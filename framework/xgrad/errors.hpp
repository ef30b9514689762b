// The exceptions xgrad throws. Every message names the operation, the argument
// and the offending value or shape, so a user can act on it without a debugger.
#pragma once

#include <stdexcept>
#include <string>

namespace xgrad {

// Base of everything xgrad throws on bad input or bad use.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Shapes that do not broadcast, wrong ranks, bad axes, non-scalar item().
struct ShapeError : Error {
  using Error::Error;
};

// A value out of its domain: bad sizes, NaN where a number is needed,
// invalid hyper-parameters, codes outside a level set.
struct ValueError : Error {
  using Error::Error;
};

// An object used in the wrong state: backward through a released graph, a saved
// tensor modified in place, qparams requested before anything was observed.
struct StateError : Error {
  using Error::Error;
};

// The wrong element type: float data where double is expected (checkpoints,
// state dicts), or the wrong kind: an Adam state dict loaded into AdamW. Mixing Tensor<float> and Tensor<double> in one op does not
// compile at all.
struct TypeError : Error {
  using Error::Error;
};

// Files that cannot be read or written, truncated or corrupt checkpoints.
struct IOError : Error {
  using Error::Error;
};

// Memory that could not be allocated (std::bad_alloc) for a tensor of a
// possible size: tensor creation, op results and backward. Impossible sizes
// (more elements than can be addressed) are ValueError instead.
struct ResourceError : Error {
  using Error::Error;
};

}  // namespace xgrad
