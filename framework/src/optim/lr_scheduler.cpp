#include "xgrad/optim/lr_scheduler.hpp"

#include <cmath>
#include <map>

#include "xgrad/errors.hpp"

namespace xgrad::optim {

template <class T>
LRScheduler<T>::LRScheduler(Optimizer<T>& optimizer, const char* name)
    : optimizer_(optimizer), name_(name) {
  for (std::size_t g = 0; g < optimizer.num_param_groups(); ++g) {
    base_lrs_.push_back(optimizer.lr(g));
  }
}

template <class T>
void LRScheduler<T>::step() {
  apply(last_epoch_ + 1);
  ++last_epoch_;
}

template <class T>
void LRScheduler<T>::apply(std::int64_t epoch) {
  // Every lr is computed and checked before any group changes, so a schedule
  // that overflows (e.g. a huge gamma) throws and leaves the optimizer as it was.
  std::vector<double> lrs;
  for (double base_lr : base_lrs_) {
    const double lr = lr_at(base_lr, epoch);
    XGRAD_CHECK(lr >= 0 && std::isfinite(lr), ValueError, name_, "::step: the schedule gives lr ",
                lr, " at epoch ", epoch);
    lrs.push_back(lr);
  }
  for (std::size_t g = 0; g < lrs.size(); ++g) optimizer_.set_lr(g, lrs[g]);
}

template <class T>
std::vector<double> LRScheduler<T>::last_lr() const {
  std::vector<double> lrs;
  for (std::size_t g = 0; g < optimizer_.num_param_groups(); ++g) lrs.push_back(optimizer_.lr(g));
  return lrs;
}

template <class T>
StateDict<T> LRScheduler<T>::state_dict() const {
  // T holds integers exactly up to 2^24 (float); refuse to save a wrong epoch,
  // as Optimizer::state_dict does for its step counts.
  XGRAD_CHECK(static_cast<std::int64_t>(static_cast<T>(last_epoch_)) == last_epoch_, StateError,
              name_, "::state_dict: last_epoch ", last_epoch_, " is not exact in this type");
  StateDict<T> dict;
  dict.emplace_back("last_epoch", xt::xarray<T>(static_cast<T>(last_epoch_)));
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) {
    dict.emplace_back("base_lrs." + std::to_string(g), xt::xarray<T>(static_cast<T>(base_lrs_[g])));
  }
  return dict;
}

template <class T>
void LRScheduler<T>::load_state_dict(const StateDict<T>& dict) {
  const std::string where = std::string(name_) + "::load_state_dict: ";
  std::map<std::string, T> values;
  for (const auto& entry : dict) {
    XGRAD_CHECK(entry.second.dimension() == 0, ValueError, where, "\"", entry.first,
                "\" must be 0-d, got shape ", entry.second.shape());
    XGRAD_CHECK(values.emplace(entry.first, entry.second()).second, ValueError, where,
                "duplicate key \"", entry.first, "\"");
  }
  auto take = [&](const std::string& key) {
    auto it = values.find(key);
    XGRAD_CHECK(it != values.end(), ValueError, where, "missing key \"", key, "\"");
    const double value = it->second;
    values.erase(it);
    return value;
  };
  const double epoch = take("last_epoch");
  // Bounded (2^53: exact in double) so that the cast to int64 below is defined.
  XGRAD_CHECK(epoch >= 0 && epoch <= 9007199254740992.0 && epoch == std::floor(epoch), ValueError,
              where, "last_epoch must be an integer >= 0, got ", epoch, " (at most 2^53)");
  std::vector<double> base_lrs;
  for (std::size_t g = 0; g < base_lrs_.size(); ++g) {
    const std::string key = "base_lrs." + std::to_string(g);
    const double lr = take(key);
    XGRAD_CHECK(lr >= 0 && std::isfinite(lr), ValueError, where, key, " must be >= 0, got ", lr);
    base_lrs.push_back(lr);
  }
  XGRAD_CHECK(values.empty(), ValueError, where, "unexpected key \"", values.begin()->first, "\"");
  // Check every resulting lr before changing anything.
  const auto epoch_count = static_cast<std::int64_t>(epoch);
  for (double lr : base_lrs) {
    const double at = lr_at(lr, epoch_count);
    XGRAD_CHECK(at >= 0 && std::isfinite(at), ValueError, where, "the schedule gives lr ", at,
                " at epoch ", epoch_count);
  }
  base_lrs_ = std::move(base_lrs);
  apply(epoch_count);  // cannot throw: the same values were checked above
  last_epoch_ = epoch_count;
}

template <class T>
StepLR<T>::StepLR(Optimizer<T>& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler<T>(optimizer, "StepLR"), step_size_(step_size), gamma_(gamma) {
  XGRAD_CHECK(step_size >= 1, ValueError, "StepLR: step_size must be >= 1, got ", step_size);
  XGRAD_CHECK(gamma > 0 && std::isfinite(gamma), ValueError, "StepLR: gamma must be > 0, got ",
              gamma);
}

template <class T>
double StepLR<T>::lr_at(double base_lr, std::int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

template <class T>
CosineAnnealingLR<T>::CosineAnnealingLR(Optimizer<T>& optimizer, std::int64_t T_max, double eta_min)
    : LRScheduler<T>(optimizer, "CosineAnnealingLR"), t_max_(T_max), eta_min_(eta_min) {
  XGRAD_CHECK(T_max >= 1, ValueError, "CosineAnnealingLR: T_max must be >= 1, got ", T_max);
  XGRAD_CHECK(eta_min >= 0 && std::isfinite(eta_min), ValueError,
              "CosineAnnealingLR: eta_min must be >= 0, got ", eta_min);
}

template <class T>
double CosineAnnealingLR<T>::lr_at(double base_lr, std::int64_t epoch) const {
  const double pi = std::acos(-1.0);
  return eta_min_ +
         (base_lr - eta_min_) *
             (1 + std::cos(pi * static_cast<double>(epoch) / static_cast<double>(t_max_))) / 2;
}

XGRAD_INSTANTIATE_CLASS(LRScheduler);
XGRAD_INSTANTIATE_CLASS(StepLR);
XGRAD_INSTANTIATE_CLASS(CosineAnnealingLR);

}  // namespace xgrad::optim
