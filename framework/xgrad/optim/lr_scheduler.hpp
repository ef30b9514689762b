// Learning-rate schedules over an optimizer's parameter groups, named like
// PyTorch's torch.optim.lr_scheduler. Each group's base lr is its lr when the
// scheduler is made; step() (once per epoch, after optimizer.step()) advances
// last_epoch and sets every group's lr to the schedule's value there. The
// values use PyTorch's closed forms, so they depend only on the epoch (a
// resumed schedule needs just last_epoch) and agree with PyTorch's recursive
// forms up to rounding.
//
// A scheduler keeps a reference to its optimizer: the optimizer must outlive it.
#pragma once

#include <cstdint>
#include <vector>

#include "xgrad/detail/instantiate.hpp"
#include "xgrad/module.hpp"  // StateDict
#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

template <class T>
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  void step();
  std::int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // The groups' current lrs (PyTorch's get_last_lr()).
  std::vector<double> last_lr() const;

  // "last_epoch" and "base_lrs.<g>" (0-d); StateError when last_epoch is not
  // exact in T (beyond 2^24 for float). load_state_dict validates fully
  // (ValueError) before setting them and the groups' lrs for last_epoch.
  StateDict<T> state_dict() const;
  void load_state_dict(const StateDict<T>& dict);

 protected:
  LRScheduler(Optimizer<T>& optimizer, const char* name);
  // The lr after `epoch` steps of a group whose base lr is base_lr.
  virtual double lr_at(double base_lr, std::int64_t epoch) const = 0;

 private:
  // Sets every group's lr for `epoch`; ValueError (nothing changed) if any
  // value is negative or not finite.
  void apply(std::int64_t epoch);
  Optimizer<T>& optimizer_;
  std::vector<double> base_lrs_;
  std::int64_t last_epoch_ = 0;
  const char* name_;
};

// lr = base_lr * gamma^floor(epoch / step_size).
// ValueError on step_size < 1 or gamma <= 0.
template <class T>
class StepLR : public LRScheduler<T> {
 public:
  StepLR(Optimizer<T>& optimizer, std::int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2,
// which keeps following the cosine past T_max, as PyTorch's does.
// ValueError on T_max < 1 or eta_min < 0.
template <class T>
class CosineAnnealingLR : public LRScheduler<T> {
 public:
  CosineAnnealingLR(Optimizer<T>& optimizer, std::int64_t T_max, double eta_min = 0);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::int64_t t_max_;
  double eta_min_;
};

XGRAD_EXTERN_TEMPLATE_CLASS(LRScheduler);
XGRAD_EXTERN_TEMPLATE_CLASS(StepLR);
XGRAD_EXTERN_TEMPLATE_CLASS(CosineAnnealingLR);

}  // namespace xgrad::optim
