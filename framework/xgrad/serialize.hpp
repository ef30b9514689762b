// Checkpoints as NumPy .npz files: a zip of one .npy member per dotted name
// ("fc1.weight.npy"), so `np.load("model.npz")["fc1.weight"]` reads them
// directly. Members are stored uncompressed, little-endian, C order, dtype
// '<f4' (float) or '<f8' (double), or '|u1' (uint8) for a module's byte
// buffers (packed low-bit codes, Module::register_byte_buffer). A uint8
// member loads into a float or double state dict exactly.
//
// Keys: the same rule on save (ValueError) and load (IOError): non-empty, no
// '\0', no '/' or '\\', no ".." in the member name (key + ".npy", so no key
// ending in '.' either), at most 65531 bytes (a zip name holds 65535, ".npy"
// included). So whatever saves loads back under the same key, and an
// unzip of a checkpoint never writes outside its directory.
//
// Saving writes a temporary file "<target>.tmp-<host>-<pid>-<n>" in the
// target's directory and renames it over the target, so a crash or error never
// leaves a half-written checkpoint. A save killed mid-write (SIGKILL, power
// loss) leaves its temporary file (or libzip's own temporary of it,
// "<target>.tmp-<host>-<pid>-<n>.XXXXXX", when killed while the zip is
// written): the next save of the same target removes those of this host whose
// process no longer runs.
//
// Loading is safe against any bytes: every member's .npy header is parsed and
// checked (dtype, order, shape, sizes: the zip entry's declared size must be
// exactly what the header needs, and no more than its stored bytes can hold)
// before the array is allocated; decompression stops at the size the header
// describes (a member inflating to more is an error, read in bounded chunks),
// so a load never holds more memory than the arrays the headers legitimately
// describe. Members may not overlap in the file (their stored sizes must add
// up to no more than the file's size), so the arrays of one load total at most
// 1032 times the file's size (deflate's largest ratio) however the zip
// directory points into it. Only stored and deflated members are read. A
// truncated or corrupt file, a bad key or a failed allocation is an IOError
// naming the file and the member; a member of the other float type a
// TypeError (convert explicitly with convert_state_dict, see module.hpp);
// never a crash.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "xgrad/errors.hpp"
#include "xgrad/module.hpp"

namespace xgrad {

// Writes `dict` to `path`. Keys must follow the rule above and be unique
// (ValueError).
// Throws IOError when the file cannot be written.
template <class T>
void save(const StateDict<T>& dict, const std::string& path);
// The same, writing the members named in uint8_keys as uint8: ValueError when
// such a key is not in `dict` or an element of its array is not an integer in
// [0, 255].
template <class T>
void save(const StateDict<T>& dict, const std::string& path,
          const std::vector<std::string>& uint8_keys);
// The module's state dict, its byte buffers as uint8 members.
template <class T>
void save(const Module<T>& module, const std::string& path) {
  save(module.state_dict(), path, module.byte_state_keys());
}

// Reads a state dict saved by save() (or by np.savez with float32/float64
// arrays, or uint8 ones) in the file's member order. IOError on a missing,
// truncated or corrupt file; TypeError when a member's dtype is neither T's
// nor uint8.
template <class T>
StateDict<T> load_state_dict_file(const std::string& path);

// module.load_state_dict(load_state_dict_file<T>(path), strict).
template <class T>
void load(Module<T>& module, const std::string& path, bool strict = true) {
  module.load_state_dict(load_state_dict_file<T>(path), strict);
}

// Through a module pointer, as libtorch's torch::save(net, path) and
// torch::load(net, path): the module's state, into or from the same file
// format (libtorch's own .pt files are not read). ValueError for a null pointer.
template <class M, class T = typename M::value_type>
void save(const std::shared_ptr<M>& module, const std::string& path) {
  XGRAD_CHECK(module != nullptr, ValueError, "save: the module pointer is null");
  save(static_cast<const Module<T>&>(*module), path);
}
template <class M, class T = typename M::value_type>
void load(const std::shared_ptr<M>& module, const std::string& path, bool strict = true) {
  XGRAD_CHECK(module != nullptr, ValueError, "load: the module pointer is null");
  load(static_cast<Module<T>&>(*module), path, strict);
}

// The bytes of one .npy file holding `array`, and the inverse (same checks
// and errors as loading). `what` names the source in messages, e.g.
// "member \"fc.weight\" of \"model.npz\"".
template <class T>
std::string to_npy_bytes(const xt::xarray<T>& array);
template <class T>
xt::xarray<T> parse_npy(const std::string& bytes, const std::string& what);

extern template void save<float>(const StateDict<float>&, const std::string&);
extern template void save<double>(const StateDict<double>&, const std::string&);
extern template void save<float>(const StateDict<float>&, const std::string&,
                                 const std::vector<std::string>&);
extern template void save<double>(const StateDict<double>&, const std::string&,
                                  const std::vector<std::string>&);
extern template StateDict<float> load_state_dict_file<float>(const std::string&);
extern template StateDict<double> load_state_dict_file<double>(const std::string&);

}  // namespace xgrad
