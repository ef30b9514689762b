#include "xgrad/quant/fake_quantize/fake_quantize_base.hpp"

#include <memory>
#include <string>

#include "xgrad/errors.hpp"

namespace xgrad::quant {

namespace {

template <class T>
bool flag_on(const Tensor<T>& flag) {
  return flag.numel() > 0 && flag.data().data()[0] != T(0);
}

// f on `module` (if it is a fake quantizer) and on every descendant that is.
template <class T, class F>
void for_each_fake_quantize(Module<T>& module, F f) {
  if (auto* fq = dynamic_cast<FakeQuantizeBase<T>*>(&module)) f(*fq);
  for (const auto& m : module.modules())
    if (auto* fq = dynamic_cast<FakeQuantizeBase<T>*>(m.get())) f(*fq);
}

}  // namespace

template <class T>
FakeQuantizeBase<T>::FakeQuantizeBase(std::string type_name) : Module<T>(std::move(type_name)) {
  fake_quant_enabled_ = this->register_buffer("fake_quant_enabled", ones<T>({1}));
  observer_enabled_ = this->register_buffer("observer_enabled", ones<T>({1}));
}

// mutable_data() replaces a loaded buffer of another shape by a fresh {1} flag.
template <class T>
void FakeQuantizeBase<T>::enable_observer(bool on) {
  observer_enabled_.mutable_data() = xt::xarray<T>({on ? T(1) : T(0)});
}

template <class T>
void FakeQuantizeBase<T>::enable_fake_quant(bool on) {
  fake_quant_enabled_.mutable_data() = xt::xarray<T>({on ? T(1) : T(0)});
}

template <class T>
bool FakeQuantizeBase<T>::observer_enabled() const {
  return flag_on(observer_enabled_);
}

template <class T>
bool FakeQuantizeBase<T>::fake_quant_enabled() const {
  return flag_on(fake_quant_enabled_);
}

template <class T>
void FakeQuantizeBase<T>::check_toggles(const typename Module<T>::StateCandidate& state) const {
  for (const char* name : {"fake_quant_enabled", "observer_enabled"}) {
    const xt::xarray<T>& f = state[name];
    XGRAD_CHECK(f.data()[0] == T(0) || f.data()[0] == T(1), ValueError, this->type_name(),
                "::load_state_dict: ", state.key(name), " must be 0 or 1, got ", f.data()[0]);
  }
}

template <class T>
void enable_observer(Module<T>& module, bool on) {
  for_each_fake_quantize(module, [on](FakeQuantizeBase<T>& fq) { fq.enable_observer(on); });
}
template <class T>
void disable_observer(Module<T>& module) {
  enable_observer(module, false);
}
template <class T>
void enable_fake_quant(Module<T>& module, bool on) {
  for_each_fake_quantize(module, [on](FakeQuantizeBase<T>& fq) { fq.enable_fake_quant(on); });
}
template <class T>
void disable_fake_quant(Module<T>& module) {
  enable_fake_quant(module, false);
}

#define XGRAD_FQ_BASE_INSTANTIATE(T)                 \
  template class FakeQuantizeBase<T>;                \
  template void enable_observer(Module<T>&, bool);   \
  template void disable_observer(Module<T>&);        \
  template void enable_fake_quant(Module<T>&, bool); \
  template void disable_fake_quant(Module<T>&);

XGRAD_FQ_BASE_INSTANTIATE(float)
XGRAD_FQ_BASE_INSTANTIATE(double)

}  // namespace xgrad::quant
