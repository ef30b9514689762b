// The element types xgrad compiles its class templates for, named once.
// Each class template is compiled in its .cpp for float and double
// (XGRAD_INSTANTIATE_CLASS(Linear);) and its header says so
// (XGRAD_EXTERN_TEMPLATE_CLASS(Linear);), so that users' translation units
// link to those copies instead of compiling the class again.
#pragma once

#define XGRAD_EXTERN_TEMPLATE_CLASS(Class) \
  extern template class Class<float>;      \
  extern template class Class<double>

#define XGRAD_INSTANTIATE_CLASS(Class) \
  template class Class<float>;         \
  template class Class<double>
