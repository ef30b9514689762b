// FakeQuantizeBase<T>: the one base of every fake-quantize module (PyTorch's
// torch.ao.quantization.FakeQuantizeBase). It owns the two flag buffers and
// their toggles, so FakeQuantize, APoTFakeQuantize, the learnable LSQ and RCF
// quantizers and anything a user writes share one implementation:
//
//   buffers "fake_quant_enabled", "observer_enabled" (shape {1}, 1 or 0,
//   registered first, in this order, as PyTorch does; saved in the state dict).
//
// Subclasses implement forward(x): observe when observer_enabled() (through their
// observer child "activation_post_process", observers/observer_base.hpp),
// fake-quantize when fake_quant_enabled(), else return x.
//
// Whole-model toggles (PyTorch `model.apply(torch.ao.quantization.disable_observer)`):
// the free functions below visit `module` and every descendant and flip the flag
// of each FakeQuantizeBase they find; other modules are left alone.
//
//   quant::disable_observer(model);   // freeze the ranges after calibration
//   quant::enable_fake_quant(model);
#pragma once

#include <string>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"
#include "xgrad/tensor.hpp"

namespace xgrad::quant {

template <class T = float>
class FakeQuantizeBase : public Module<T> {
 public:
  // Registers the two flags, both on (PyTorch's default).
  explicit FakeQuantizeBase(std::string type_name);

  void enable_observer(bool on = true);
  void disable_observer() { enable_observer(false); }
  void enable_fake_quant(bool on = true);
  void disable_fake_quant() { enable_fake_quant(false); }
  // A flag is on when its buffer holds a nonzero first element (a state dict
  // may have loaded any value; an empty buffer reads as off).
  bool observer_enabled() const;
  bool fake_quant_enabled() const;

  // False while an observer-based quantizer has nothing to fake-quantize with
  // (never observed, nothing loaded); learnable quantizers always hold
  // usable parameters (the default). convert() refuses the former.
  virtual bool has_qparams() const { return true; }

  Tensor<T> forward(const Tensor<T>& x) override = 0;

 protected:
  // For a subclass's check_state: ValueError (naming the key) for a toggle
  // other than 0 or 1 (the base itself reads any nonzero value as on).
  void check_toggles(const typename Module<T>::StateCandidate& state) const;

 private:
  Tensor<T> fake_quant_enabled_, observer_enabled_;
};

// Apply to `module` itself and all its descendants (Module::modules()).
template <class T>
void enable_observer(Module<T>& module, bool on = true);
template <class T>
void disable_observer(Module<T>& module);
template <class T>
void enable_fake_quant(Module<T>& module, bool on = true);
template <class T>
void disable_fake_quant(Module<T>& module);

XGRAD_EXTERN_TEMPLATE_CLASS(FakeQuantizeBase);

}  // namespace xgrad::quant
