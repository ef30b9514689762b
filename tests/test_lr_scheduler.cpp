// Learning-rate schedules: our closed forms against PyTorch's values. Where
// the numbers are dyadic they are exact; otherwise the expected literals are
// PyTorch's closed-form values printed by Python (same libm calls in the same
// order: equal, we allow 1e-15 relative for a different libm), and the
// comparison with PyTorch's recursive (chainable) form allows 1e-12 relative:
// each recursive step adds a rounding error of ~1e-16.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "test_util.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/optim/lr_scheduler.hpp"
#include "xgrad/optim/sgd.hpp"

BOOST_AUTO_TEST_SUITE(test_lr_scheduler)

using namespace xgrad;
using namespace xgrad::optim;

namespace {

Tensor<double> weight() { return Tensor<double>(xt::xarray<double>{1.0}, true); }

template <class Scheduler>
std::vector<double> lr_sequence(SGD<double>& opt, Scheduler& scheduler, int epochs) {
  std::vector<double> lrs{opt.lr(0)};
  for (int e = 1; e < epochs; ++e) {
    scheduler.step();
    lrs.push_back(opt.lr(0));
  }
  return lrs;
}

bool relatively_close(double a, double b, double rel) {
  return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b));
}

// The lrs of epochs 0, 1, ... are PyTorch's values `expected` up to 1e-15
// relative: the closed forms and PyTorch's round differently in the last bits.
template <class Scheduler>
boost::test_tools::predicate_result gives_pytorch_lrs(SGD<double>& opt, Scheduler& scheduler,
                                                      const std::vector<double>& expected) {
  const auto lrs = lr_sequence(opt, scheduler, static_cast<int>(expected.size()));
  for (std::size_t e = 0; e < expected.size(); ++e) {
    if (!relatively_close(lrs[e], expected[e], 1e-15)) {
      boost::test_tools::predicate_result r(false);
      r.message() << "epoch " << e << ": " << lrs[e] << " vs " << expected[e];
      return r;
    }
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_CASE(step_lr_multiplies_by_gamma_every_step_size_epochs) {
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(1.0));
  StepLR<double> scheduler(opt, 2, 0.5);
  const std::vector<double> expected = {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125};
  BOOST_TEST(lr_sequence(opt, scheduler, 7) == expected, boost::test_tools::per_element());
  BOOST_TEST(scheduler.last_epoch() == 6);
}

BOOST_AUTO_TEST_CASE(step_lr_matches_pytorch_values) {
  // torch.optim.lr_scheduler.StepLR(SGD(lr=0.1), step_size=3, gamma=0.1).
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(0.1));
  StepLR<double> scheduler(opt, 3);
  const std::vector<double> expected = {0.1,
                                        0.1,
                                        0.1,
                                        0.010000000000000002,
                                        0.010000000000000002,
                                        0.010000000000000002,
                                        0.0010000000000000002,
                                        0.0010000000000000002,
                                        0.0010000000000000002,
                                        0.00010000000000000003};
  BOOST_TEST(gives_pytorch_lrs(opt, scheduler, expected));
}

BOOST_AUTO_TEST_CASE(cosine_annealing_matches_pytorch_values) {
  // CosineAnnealingLR(SGD(lr=0.5), T_max=4, eta_min=0.1): down to eta_min at
  // T_max, then back up along the cosine.
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(0.5));
  CosineAnnealingLR<double> scheduler(opt, 4, 0.1);
  const std::vector<double> expected = {
      0.5, 0.4414213562373095,  0.30000000000000004, 0.1585786437626905,
      0.1, 0.15857864376269049, 0.29999999999999993, 0.4414213562373095,
      0.5};
  BOOST_TEST(gives_pytorch_lrs(opt, scheduler, expected));
}

BOOST_AUTO_TEST_CASE(cosine_annealing_without_eta_min_reaches_zero) {
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(1.0));
  CosineAnnealingLR<double> scheduler(opt, 4);
  const auto lrs = lr_sequence(opt, scheduler, 5);
  BOOST_TEST(lrs[2] == 0.5);  // (1 + cos(pi / 2)) / 2, cos(pi/2) ~ 6e-17 rounds away
  BOOST_TEST(lrs[4] == 0.0);  // (1 + cos(pi)) / 2
}

BOOST_AUTO_TEST_CASE(cosine_annealing_agrees_with_pytorch_recursive_form) {
  // PyTorch's default CosineAnnealingLR.get_lr(), which updates the current lr.
  const double base = 0.3, eta_min = 0.01, pi = std::acos(-1.0);
  const int t_max = 5;
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(base));
  CosineAnnealingLR<double> scheduler(opt, t_max, eta_min);
  double lr = base;
  for (int e = 1; e <= 4 * t_max; ++e) {
    if ((e - 1 - t_max) % (2 * t_max) == 0) {
      lr = lr + (base - eta_min) * (1 - std::cos(pi / t_max)) / 2;
    } else {
      lr = (1 + std::cos(pi * e / t_max)) / (1 + std::cos(pi * (e - 1) / t_max)) * (lr - eta_min) +
           eta_min;
    }
    scheduler.step();
    BOOST_TEST(relatively_close(opt.lr(0), lr, 1e-12), "epoch " << e << ": " << opt.lr(0));
  }
}

BOOST_AUTO_TEST_CASE(schedulers_scale_each_group_from_its_own_base_lr) {
  Tensor<double> a = weight(), b = weight();
  SGD<double> opt(std::vector<ParamGroup<double>>{{{a}, {}, {}}, {{b}, 0.25, {}}}, SGDOptions(1.0));
  StepLR<double> scheduler(opt, 1, 0.5);
  BOOST_TEST(scheduler.base_lrs() == (std::vector<double>{1.0, 0.25}),
             boost::test_tools::per_element());
  scheduler.step();
  scheduler.step();
  BOOST_TEST(scheduler.last_lr() == (std::vector<double>{0.25, 0.0625}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(float_optimizers_hold_the_lr_rounded_to_float) {
  Tensor<float> w(xt::xarray<float>{1.0f}, true);
  SGD<float> opt({w}, SGDOptions(0.1));
  StepLR<float> scheduler(opt, 1, 0.1);
  scheduler.step();
  BOOST_TEST(opt.lr(0) == static_cast<double>(static_cast<float>(0.1 * 0.1)));
}

BOOST_AUTO_TEST_CASE(scheduler_state_dict_resumes_the_schedule) {
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(0.5));
  CosineAnnealingLR<double> scheduler(opt, 10);
  for (int e = 0; e < 3; ++e) scheduler.step();
  const auto dict = scheduler.state_dict();
  BOOST_TEST(dict.size() == 2u);
  BOOST_TEST(dict[0].first == "last_epoch");
  BOOST_TEST(dict[0].second() == 3.0);
  BOOST_TEST(dict[1].first == "base_lrs.0");

  // A fresh optimizer and scheduler continue where the first left off.
  Tensor<double> w2 = weight();
  SGD<double> opt2({w2}, SGDOptions(0.5));
  CosineAnnealingLR<double> resumed(opt2, 10);
  resumed.load_state_dict(dict);
  BOOST_TEST(resumed.last_epoch() == 3);
  BOOST_TEST(opt2.lr(0) == opt.lr(0));
  scheduler.step();
  resumed.step();
  BOOST_TEST(opt2.lr(0) == opt.lr(0));
}

BOOST_AUTO_TEST_CASE(bad_scheduler_state_dicts_throw_value_error_and_change_nothing) {
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(0.5));
  StepLR<double> scheduler(opt, 1, 0.5);
  scheduler.step();
  const std::vector<std::pair<xgrad::StateDict<double>, std::string>> cases = {
      {{{"base_lrs.0", xt::xarray<double>(1.0)}}, "missing key \"last_epoch\""},
      {{{"last_epoch", xt::xarray<double>(1.0)}}, "missing key \"base_lrs.0\""},
      {{{"last_epoch", xt::xarray<double>(-1.0)}, {"base_lrs.0", xt::xarray<double>(1.0)}},
       "last_epoch must be an integer >= 0, got -1"},
      {{{"last_epoch", xt::xarray<double>(1.0)}, {"base_lrs.0", xt::xarray<double>(-1.0)}},
       "base_lrs.0 must be >= 0, got -1"},
      {{{"last_epoch", xt::xarray<double>(1.0)},
        {"base_lrs.0", xt::xarray<double>(1.0)},
        {"base_lrs.1", xt::xarray<double>(1.0)}},
       "unexpected key \"base_lrs.1\""},
      {{{"last_epoch", xt::xarray<double>{1.0, 2.0}}, {"base_lrs.0", xt::xarray<double>(1.0)}},
       "\"last_epoch\" must be 0-d"},
      // Beyond 2^53 (incl. inf) the conversion to int64 would overflow.
      {{{"last_epoch", xt::xarray<double>(1e30)}, {"base_lrs.0", xt::xarray<double>(1.0)}},
       "last_epoch must be an integer >= 0, got 1e+30"},
      {{{"last_epoch", xt::xarray<double>(std::numeric_limits<double>::infinity())},
        {"base_lrs.0", xt::xarray<double>(1.0)}},
       "last_epoch must be an integer >= 0, got inf"},
  };
  for (const auto& c : cases) {
    try {
      scheduler.load_state_dict(c.first);
      BOOST_ERROR("accepted a bad dict: " + c.second);
    } catch (const ValueError& e) {
      BOOST_TEST(std::string(e.what()).find(c.second) != std::string::npos, e.what());
    }
    BOOST_TEST(scheduler.last_epoch() == 1);
    BOOST_TEST(opt.lr(0) == 0.25);
  }
}

BOOST_AUTO_TEST_CASE(a_float_state_dict_refuses_an_epoch_float_cannot_hold) {
  // 2^24 + 1 is the first integer a float cannot represent: saving it would
  // resume the schedule at the wrong epoch.
  Tensor<float> w(xt::xarray<float>{1.0f}, true);
  SGD<float> opt({w}, SGDOptions(0.5));
  StepLR<float> scheduler(opt, 1 << 30);
  scheduler.load_state_dict(
      {{"last_epoch", xt::xarray<float>(16777216.0f)}, {"base_lrs.0", xt::xarray<float>(0.5f)}});
  BOOST_TEST(scheduler.state_dict().at(0).second() == 16777216.0f);
  scheduler.step();
  BOOST_CHECK_THROW(scheduler.state_dict(), xgrad::StateError);
}

BOOST_AUTO_TEST_CASE(a_step_whose_lr_overflows_throws_and_changes_nothing) {
  // gamma 1e300: lr 1e300 after one step, 1e600 = inf after two.
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(1.0));
  StepLR<double> scheduler(opt, 1, 1e300);
  scheduler.step();
  BOOST_TEST(opt.lr(0) == 1e300);
  try {
    scheduler.step();
    BOOST_ERROR("step accepted an infinite lr");
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("StepLR::step: the schedule gives lr inf at epoch 2") !=
                   std::string::npos,
               e.what());
  }
  BOOST_TEST(scheduler.last_epoch() == 1);
  BOOST_TEST(opt.lr(0) == 1e300);
}

BOOST_AUTO_TEST_CASE(bad_scheduler_options_throw_value_error_naming_them) {
  Tensor<double> w = weight();
  SGD<double> opt({w}, SGDOptions(0.5));
  const std::vector<std::pair<std::function<void()>, std::string>> cases = {
      {[&] { StepLR<double>(opt, 0); }, "StepLR: step_size must be >= 1, got 0"},
      {[&] { StepLR<double>(opt, 2, 0.0); }, "StepLR: gamma must be > 0, got 0"},
      {[&] { StepLR<double>(opt, 2, -0.5); }, "StepLR: gamma must be > 0, got -0.5"},
      {[&] { CosineAnnealingLR<double>(opt, 0); }, "CosineAnnealingLR: T_max must be >= 1, got 0"},
      {[&] { CosineAnnealingLR<double>(opt, 5, -0.1); },
       "CosineAnnealingLR: eta_min must be >= 0, got -0.1"},
  };
  for (const auto& c : cases) {
    try {
      c.first();
      BOOST_ERROR("no error for " + c.second);
    } catch (const ValueError& e) {
      BOOST_TEST(std::string(e.what()).find(c.second) != std::string::npos, e.what());
    }
  }
  BOOST_TEST(opt.lr(0) == 0.5);
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D p = leaf({2});
  auto sgd = std::make_shared<optim::SGD<double>>(std::vector<D>{p}, optim::SGDOptions(0.1));
  r.push_back({"StepLR: step_size 0",
               raises<ValueError>("StepLR", {"step_size", "got 0"}),
               [sgd] { optim::StepLR<double>(*sgd, 0); },
               {p}});
  r.push_back({"StepLR: gamma 0",
               raises<ValueError>("StepLR", {"gamma", "got 0"}),
               [sgd] { optim::StepLR<double>(*sgd, 2, 0.0); },
               {p}});
  r.push_back({"CosineAnnealingLR: T_max 0",
               raises<ValueError>("CosineAnnealingLR", {"T_max", "got 0"}),
               [sgd] { optim::CosineAnnealingLR<double>(*sgd, 0); },
               {p}});
  r.push_back({"CosineAnnealingLR: negative eta_min",
               raises<ValueError>("CosineAnnealingLR", {"eta_min", "got -1"}),
               [sgd] { optim::CosineAnnealingLR<double>(*sgd, 5, -1.0); },
               {p}});
  r.push_back({"scheduler load_state_dict: missing last_epoch",
               raises<ValueError>("StepLR::load_state_dict", {"missing key \"last_epoch\""}),
               [sgd] {
                 optim::StepLR<double> s(*sgd, 2);
                 s.load_state_dict({});
               },
               {p}});
  r.push_back({"scheduler load_state_dict: fractional epoch",
               raises<ValueError>("StepLR::load_state_dict", {"last_epoch", "got 1.5"}),
               [sgd] {
                 optim::StepLR<double> s(*sgd, 2);
                 auto d = s.state_dict();
                 for (auto& kv : d)
                   if (kv.first == "last_epoch") kv.second() = 1.5;
                 s.load_state_dict(d);
               },
               {p}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_lr_scheduler
