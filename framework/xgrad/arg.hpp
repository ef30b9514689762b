// XGRAD_ARG(type, name): one field of an options class, libtorch's TORCH_ARG.
// It declares the setter name(value), which returns *this so that calls chain,
// the getter name() and the member name_; a default value may follow:
//   class Pool2dOptions {
//    public:
//     Pool2dOptions(Size2 kernel_size) : kernel_size_(kernel_size) {}
//     XGRAD_ARG(Size2, kernel_size);
//     XGRAD_ARG(Size2, padding) = 0;
//   };
//   Pool2dOptions(3).padding(1).padding();  // 1
// The macro ends in the class's private section.
#pragma once

#define XGRAD_ARG(T, name)                                 \
 public:                                                   \
  auto name(const T& new_##name)->decltype(*this) {        \
    this->name##_ = new_##name;                            \
    return *this;                                          \
  }                                                        \
  const T& name() const noexcept { return this->name##_; } \
                                                           \
 private:                                                  \
  T name##_
