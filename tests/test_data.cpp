// Datasets (vectors and images), splits, mini-batches and the synthetic
// spirals and bars.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "test_util.hpp"
#include "xgrad/data.hpp"
#include "xgrad/errors.hpp"

BOOST_AUTO_TEST_SUITE(test_data)

using xgrad::Generator;
using xgrad::Labels;
using xgrad::ShapeError;
using xgrad::Tensor;
using xgrad::ValueError;
using xgrad::data::accuracy;
using xgrad::data::DataLoader;
using xgrad::data::Dataset;
using xgrad_test::equal_arrays;

namespace {

// n rows whose single feature is the row number and whose label is row % 3,
// so every row can be traced through shuffles and splits.
Dataset<double> numbered(std::size_t n) {
  xt::xarray<double> f = xt::zeros<double>({n, std::size_t{1}});
  Labels labels = xt::zeros<std::int64_t>({n});
  for (std::size_t i = 0; i < n; ++i) {
    f(i, 0) = static_cast<double>(i);
    labels(i) = static_cast<std::int64_t>(i % 3);
  }
  return {Tensor<double>(f), labels};
}

// The row numbers held by a batch of numbered(); also checks labels follow.
std::vector<std::size_t> rows_of(const Dataset<double>& d) {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const auto row = static_cast<std::size_t>(d.features.data()(i, 0));
    BOOST_TEST(d.labels(i) == static_cast<std::int64_t>(row % 3));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

// ---- spirals ----

BOOST_AUTO_TEST_CASE(spirals_have_class_major_rows_and_two_features) {
  Generator gen(1);
  const auto d = xgrad::data::make_spirals<float>(50, 3, 0.1f, gen);
  BOOST_TEST(xgrad::to_string(d.features.shape()) == "[150, 2]");
  BOOST_TEST(d.size() == 150u);
  for (std::size_t i = 0; i < 150; ++i)
    BOOST_TEST(d.labels(i) == static_cast<std::int64_t>(i / 50));
  BOOST_TEST(!d.features.requires_grad());
}

BOOST_AUTO_TEST_CASE(noiseless_spirals_lie_on_the_documented_curve) {
  // Point j of arm c: radius (j + 1) / n, angle 2 pi (c / K + r). Exact up to
  // cos/sin rounding (1e-15 on values <= 1).
  Generator gen(0);
  const std::size_t n = 4, k = 2;
  const auto d = xgrad::data::make_spirals<double>(n, k, 0.0, gen);
  const double pi = std::acos(-1.0);
  for (std::size_t c = 0; c < k; ++c) {
    for (std::size_t j = 0; j < n; ++j) {
      const double r = (j + 1.0) / n, angle = 2 * pi * (double(c) / k + r);
      BOOST_TEST(std::abs(d.features.data()(c * n + j, 0) - r * std::cos(angle)) <= 1e-15);
      BOOST_TEST(std::abs(d.features.data()(c * n + j, 1) - r * std::sin(angle)) <= 1e-15);
    }
  }
  // The outermost points of the two arms are opposite: (1, 0) and (-1, 0).
  BOOST_TEST(std::abs(d.features.data()(3, 0) - 1.0) <= 1e-15);
  BOOST_TEST(std::abs(d.features.data()(7, 0) + 1.0) <= 1e-15);
}

BOOST_AUTO_TEST_CASE(spirals_are_reproducible_from_the_seed) {
  Generator a(7), b(7), c(8);
  const auto da = xgrad::data::make_spirals<float>(20, 2, 0.2f, a);
  const auto db = xgrad::data::make_spirals<float>(20, 2, 0.2f, b);
  const auto dc = xgrad::data::make_spirals<float>(20, 2, 0.2f, c);
  BOOST_TEST(equal_arrays(da.features.data(), db.features.data()));
  BOOST_TEST(!equal_arrays(da.features.data(), dc.features.data()));
}

BOOST_AUTO_TEST_CASE(bad_spiral_arguments_throw_value_error) {
  Generator gen(0);
  BOOST_CHECK_THROW(xgrad::data::make_spirals<float>(0, 2, 0.1f, gen), ValueError);
  BOOST_CHECK_THROW(xgrad::data::make_spirals<float>(10, 1, 0.1f, gen), ValueError);
  BOOST_CHECK_THROW(xgrad::data::make_spirals<float>(10, 2, -0.1f, gen), ValueError);
  BOOST_CHECK_THROW(xgrad::data::make_spirals<float>(10, 2, 0.1f, gen, 0.0f), ValueError);
  // points_per_class * num_classes wraps around to 0: must not write past the end.
  BOOST_CHECK_THROW(xgrad::data::make_spirals<float>(std::size_t(1) << 62, 8, 0.1f, gen),
                    ValueError);
  try {
    xgrad::data::make_spirals<double>(10, 2, std::nan(""), gen);
    BOOST_ERROR("NaN noise accepted");
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("make_spirals: noise") != std::string::npos);
  }
}

// ---- subset, split ----

BOOST_AUTO_TEST_CASE(subset_takes_rows_in_the_given_order) {
  const auto d = numbered(6);
  const auto s = xgrad::data::subset(d, {4, 0, 4});
  BOOST_TEST(rows_of(s) == (std::vector<std::size_t>{4, 0, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(subset_rejects_bad_rows_and_malformed_datasets) {
  const auto d = numbered(6);
  BOOST_CHECK_THROW(xgrad::data::subset(d, {6}), ValueError);
  Dataset<double> bad{d.features, xt::zeros<std::int64_t>({5})};
  BOOST_CHECK_THROW(xgrad::data::subset(bad, {0}), ShapeError);
  Dataset<double> zero_d{xgrad::scalar<double>(1.0), d.labels};  // no row axis
  BOOST_CHECK_THROW(xgrad::data::subset(zero_d, {0}), ShapeError);
}

BOOST_AUTO_TEST_CASE(train_test_split_partitions_the_rows) {
  Generator gen(3);
  const auto d = numbered(10);
  const auto [train, test] = xgrad::data::train_test_split(d, 0.25, gen);
  BOOST_TEST(test.size() == 3u);  // round(10 * 0.25) = round(2.5) = 3 (away from zero)
  BOOST_TEST(train.size() == 7u);
  std::vector<std::size_t> all = rows_of(train);
  const auto test_rows = rows_of(test);
  all.insert(all.end(), test_rows.begin(), test_rows.end());
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(all[i] == i);
}

BOOST_AUTO_TEST_CASE(train_test_split_is_seeded) {
  const auto d = numbered(20);
  Generator a(5), b(5), c(6);
  const auto first = xgrad::data::train_test_split(d, 0.5, a);
  const auto second = xgrad::data::train_test_split(d, 0.5, b);
  const auto other = xgrad::data::train_test_split(d, 0.5, c);
  BOOST_TEST(rows_of(first.second) == rows_of(second.second), boost::test_tools::per_element());
  BOOST_TEST(rows_of(first.second) != rows_of(other.second));
}

BOOST_AUTO_TEST_CASE(bad_split_fractions_throw_value_error) {
  Generator gen(0);
  const auto d = numbered(4);
  for (double f : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    BOOST_CHECK_THROW(xgrad::data::train_test_split(d, f, gen), ValueError);
  }
  // 4 rows * 0.1 rounds to an empty test set.
  BOOST_CHECK_THROW(xgrad::data::train_test_split(d, 0.1, gen), ValueError);
}

BOOST_AUTO_TEST_CASE(random_split_cuts_one_shuffle_into_the_given_lengths) {
  Generator gen(5);
  const auto parts = xgrad::data::random_split(numbered(10), {6, 0, 4}, gen);
  BOOST_REQUIRE_EQUAL(parts.size(), 3u);
  BOOST_TEST(parts[0].size() == 6u);
  BOOST_TEST(parts[1].size() == 0u);
  BOOST_TEST(parts[2].size() == 4u);
  std::vector<std::size_t> rows = rows_of(parts[0]);  // rows_of also checks the labels follow
  const auto last = rows_of(parts[2]);
  rows.insert(rows.end(), last.begin(), last.end());
  Generator same(5);  // the parts are the permutation randperm draws, cut in order
  BOOST_TEST(rows == xgrad::randperm(10, same), boost::test_tools::per_element());
}

// ---- images ----

BOOST_AUTO_TEST_CASE(bars_are_images_of_one_bar_in_four_orientations) {
  Generator gen(2);
  const auto d = xgrad::data::make_bars<double>(25, 8, 0.0, gen);  // no noise: exact pixels
  BOOST_TEST(d.features.sizes() == xgrad::Shape({100, 1, 8, 8}));
  for (std::size_t i = 0; i < 100; ++i) {
    BOOST_TEST_CONTEXT("image " << i) {
      const auto c = static_cast<std::int64_t>(i / 25);
      BOOST_TEST(d.labels(i) == c);  // class-major
      // The lit pixels: 4 (= 8 / 2), consecutive along the class's direction.
      std::vector<std::pair<long, long>> lit;
      for (long r = 0; r < 8; ++r)
        for (long q = 0; q < 8; ++q)
          if (d.features.data()(i, 0, r, q) != 0) lit.emplace_back(r, q);
      BOOST_REQUIRE_EQUAL(lit.size(), 4u);
      const long dr = c == 0 ? 0 : 1, dq = c == 0 ? 1 : c == 1 ? 0 : c == 2 ? 1 : -1;
      std::sort(lit.begin(), lit.end());
      if (c == 3) std::reverse(lit.begin(), lit.end());  // walk the anti-diagonal upwards
      for (std::size_t k = 1; k < 4; ++k) {
        BOOST_TEST(std::abs(lit[k].first - lit[k - 1].first) == dr);
        BOOST_TEST(lit[k].second - lit[k - 1].second == (c == 3 ? -dq : dq));
      }
      for (const auto& p : lit) BOOST_TEST(d.features.data()(i, 0, p.first, p.second) == 1.0);
    }
  }
}

BOOST_AUTO_TEST_CASE(bars_lie_anywhere_they_fit) {
  Generator gen(3);
  const auto d = xgrad::data::make_bars<float>(400, 6, 0.0f, gen);
  // Horizontal bars (images 0..399): the row takes all 6 values, the first
  // column the 6 - 3 + 1 = 4 where a 3-pixel bar fits; vertical bars (400..799)
  // the same with rows and columns swapped. 400 draws miss one of 6 values
  // with probability below 6 (5/6)^400 < 1e-30.
  std::set<std::size_t> lines[2], starts[2];
  for (std::size_t i = 0; i < 800; ++i) {
    const std::size_t c = i / 400;
    std::size_t first = 6;
    for (std::size_t r = 0; r < 6; ++r) {
      for (std::size_t q = 0; q < 6; ++q) {
        if (d.features.data()(i, 0, r, q) == 0) continue;
        lines[c].insert(c == 0 ? r : q);
        first = std::min(first, c == 0 ? q : r);
      }
    }
    starts[c].insert(first);
  }
  for (std::size_t c = 0; c < 2; ++c) {
    BOOST_TEST(lines[c].size() == 6u);
    BOOST_TEST(starts[c] == (std::set<std::size_t>{0, 1, 2, 3}), boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(bars_add_the_noise_and_are_reproducible) {
  Generator g1(4), g2(4), g3(5);
  const auto a = xgrad::data::make_bars<float>(3, 8, 0.1f, g1);
  const auto b = xgrad::data::make_bars<float>(3, 8, 0.1f, g2);
  const auto c = xgrad::data::make_bars<float>(3, 8, 0.1f, g3);
  BOOST_TEST(equal_arrays(a.features.data(), b.features.data()));
  BOOST_TEST(!equal_arrays(a.features.data(), c.features.data()));
  std::size_t zeros = 0;
  for (float v : a.features.data()) zeros += v == 0.0f;
  BOOST_TEST(zeros == 0u);  // every pixel got noise
}

// ---- DataLoader ----

BOOST_AUTO_TEST_CASE(loader_batches_images_along_the_first_axis) {
  Generator gen(6);
  const auto images = xgrad::data::make_bars<float>(5, 8, 0.1f, gen);  // [20, 1, 8, 8]
  DataLoader<float> loader(images, 8, /*shuffle=*/true, /*seed=*/1);
  std::vector<std::size_t> sizes;
  std::multiset<std::int64_t> labels;
  for (const auto& batch : loader) {
    sizes.push_back(batch.size());
    BOOST_TEST(batch.features.sizes() == xgrad::Shape({batch.size(), 1, 8, 8}));
    labels.insert(batch.labels.begin(), batch.labels.end());
    // Each image keeps its label: find it in the dataset by its pixels.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto image = batch.features[static_cast<std::int64_t>(i)];
      std::size_t matches = 0;
      for (std::size_t j = 0; j < images.size(); ++j) {
        if (equal_arrays(image.data(), images.features[static_cast<std::int64_t>(j)].data())) {
          ++matches;
          BOOST_TEST(batch.labels(i) == images.labels(j));
        }
      }
      BOOST_TEST(matches == 1u);
    }
  }
  BOOST_TEST(sizes == (std::vector<std::size_t>{8, 8, 4}), boost::test_tools::per_element());
  BOOST_TEST(labels.count(0) == 5u);
  BOOST_TEST(labels.count(3) == 5u);
}

BOOST_AUTO_TEST_CASE(loader_without_shuffle_yields_rows_in_order) {
  DataLoader<double> loader(numbered(7), 3, false);
  BOOST_TEST(loader.num_batches() == 3u);
  std::vector<std::vector<std::size_t>> batches;
  for (const auto& batch : loader) batches.push_back(rows_of(batch));
  const std::vector<std::vector<std::size_t>> expected = {{0, 1, 2}, {3, 4, 5}, {6}};
  BOOST_TEST(batches == expected);
}

BOOST_AUTO_TEST_CASE(loader_drop_last_omits_the_short_batch) {
  DataLoader<double> loader(numbered(7), 3, false, 0, true);
  BOOST_TEST(loader.num_batches() == 2u);
  std::size_t count = 0;
  for (const auto& batch : loader) count += batch.size();
  BOOST_TEST(count == 6u);
}

BOOST_AUTO_TEST_CASE(a_batch_size_above_the_row_count_gives_one_batch) {
  // SIZE_MAX guards against computing (n + batch_size - 1) / batch_size, which wraps.
  for (std::size_t batch_size : {std::size_t(8), std::numeric_limits<std::size_t>::max()}) {
    DataLoader<double> loader(numbered(7), batch_size, false);
    BOOST_TEST(loader.num_batches() == 1u);
    BOOST_TEST(loader.batch(0).size() == 7u);
    DataLoader<double> dropped(numbered(7), batch_size, false, 0, true);
    BOOST_TEST(dropped.num_batches() == 0u);
  }
}

BOOST_AUTO_TEST_CASE(loader_shuffles_every_pass_and_covers_every_row_once) {
  DataLoader<double> loader(numbered(10), 4, true, 11);
  std::vector<std::vector<std::size_t>> passes;
  for (int epoch = 0; epoch < 2; ++epoch) {
    std::vector<std::size_t> rows;
    for (const auto& batch : loader) {
      const auto r = rows_of(batch);
      rows.insert(rows.end(), r.begin(), r.end());
    }
    passes.push_back(rows);
    std::sort(rows.begin(), rows.end());
    for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(rows[i] == i);
  }
  BOOST_TEST(passes[0] != passes[1]);

  // The same seed gives the same sequence of passes.
  DataLoader<double> again(numbered(10), 4, true, 11);
  std::vector<std::size_t> rows;
  for (const auto& batch : again) {
    const auto r = rows_of(batch);
    rows.insert(rows.end(), r.begin(), r.end());
  }
  BOOST_TEST(rows == passes[0], boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_loader_arguments_throw) {
  BOOST_CHECK_THROW(DataLoader<double>(numbered(4), 0, false), ValueError);
  BOOST_CHECK_THROW(DataLoader<double>(Dataset<double>{}, 2, false), ValueError);
  const auto d = numbered(4);
  BOOST_CHECK_THROW(
      DataLoader<double>(Dataset<double>{d.features, xt::zeros<std::int64_t>({3})}, 2, false),
      ShapeError);
  DataLoader<double> loader(d, 2, false);
  BOOST_CHECK_THROW(loader.batch(2), ValueError);
}

BOOST_AUTO_TEST_CASE(loader_follows_its_sampler_and_asks_again_every_pass) {
  std::vector<std::size_t> order = {4, 0, 4, 2, 1};  // repeats and gaps are allowed
  DataLoader<double> loader(numbered(6), 2, [&order] { return order; });
  BOOST_TEST(loader.num_batches() == 3u);
  std::vector<std::vector<std::size_t>> batches;
  for (const auto& batch : loader) batches.push_back(rows_of(batch));
  BOOST_TEST(batches == (std::vector<std::vector<std::size_t>>{{4, 0}, {4, 2}, {1}}));

  order = {5, 3, 1, 0};
  batches.clear();
  for (const auto& batch : loader) batches.push_back(rows_of(batch));
  BOOST_TEST(batches == (std::vector<std::vector<std::size_t>>{{5, 3}, {1, 0}}));
}

BOOST_AUTO_TEST_CASE(a_lambda_without_captures_is_a_sampler_too) {
  // It also converts to bool (shuffle): the sampler constructor must win.
  DataLoader<double> loader(numbered(4), 3, [] { return std::vector<std::size_t>{3, 1}; });
  BOOST_TEST(loader.num_batches() == 1u);
  BOOST_TEST(rows_of(loader.batch(0)) == (std::vector<std::size_t>{3, 1}));
}

BOOST_AUTO_TEST_CASE(loader_rejects_a_null_sampler_and_indices_out_of_range) {
  BOOST_CHECK_EXCEPTION(DataLoader<double>(numbered(3), 2, xgrad::data::Sampler()), ValueError,
                        xgrad_test::mentions<ValueError>("sampler is null"));
  std::vector<std::size_t> order = {0, 3};
  BOOST_CHECK_EXCEPTION(DataLoader<double>(numbered(3), 2, [&order] { return order; }), ValueError,
                        xgrad_test::mentions<ValueError>("index 3"));
  // At begin() too, leaving the loader's current pass as it was.
  order = {2, 1};
  DataLoader<double> loader(numbered(3), 2, [&order] { return order; });
  order = {0, 7};
  BOOST_CHECK_EXCEPTION(loader.begin(), ValueError, xgrad_test::mentions<ValueError>("index 7"));
  BOOST_TEST(rows_of(loader.batch(0)) == (std::vector<std::size_t>{2, 1}));
}

// ---- accuracy ----

BOOST_AUTO_TEST_CASE(accuracy_counts_rows_whose_argmax_is_the_label) {
  // Row 2 ties between classes 0 and 1: the first maximum (0) is the prediction.
  const auto logits =
      xgrad::tensor<float>({{0.1f, 0.9f}, {2.0f, -1.0f}, {0.5f, 0.5f}, {0.0f, 3.0f}});
  const Labels labels = {1, 0, 1, 0};
  BOOST_TEST(accuracy(logits, labels) == 0.5);
}

BOOST_AUTO_TEST_CASE(accuracy_rejects_mismatched_shapes) {
  const auto logits = xgrad::tensor<float>({{0.1f, 0.9f}, {2.0f, -1.0f}});
  BOOST_CHECK_THROW(accuracy(logits, Labels{1, 0, 1}), ShapeError);
  BOOST_CHECK_THROW(accuracy(xgrad::tensor<float>({0.1f, 0.9f}), Labels{1, 0}), ShapeError);
}

BOOST_AUTO_TEST_CASE(accuracy_rejects_undefined_logits_naming_itself) {
  try {
    accuracy(Tensor<float>(), Labels{1});
    BOOST_ERROR("undefined logits accepted");
  } catch (const ValueError& e) {
    BOOST_TEST(std::string(e.what()).find("accuracy: logits are undefined") != std::string::npos);
  }
}

// ---- bad input ----

XGRAD_TEST_BAD_CALLS(r) {
  const D u;  // undefined

  data::Dataset<double> ds{leaf({4, 2}), Labels({0, 1, 0, 1})};
  data::Dataset<double> bad{leaf({4, 2}), Labels({0, 1})};
  r.push_back(
      {"check_dataset: labels of another length",
       raises<ShapeError>("test", {"features [N, ...] and labels [N]", "got [4, 2] and [2]"}),
       [bad] { data::check_dataset(bad, "test"); },
       {bad.features}});
  r.push_back({"subset: index out of range",
               raises<ValueError>("index_select", {"index 9 at position 1"}),
               [ds] {
                 data::subset(ds, {0, 9});
               },
               {ds.features}});
  r.push_back({"train_test_split: fraction 1",
               raises<ValueError>("train_test_split", {"test_fraction", "got 1"}),
               [ds] {
                 Generator g(1);
                 data::train_test_split(ds, 1.0, g);
               },
               {ds.features}});
  r.push_back({"train_test_split: empty part",
               raises<ValueError>("train_test_split",
                                  {"4 rows with test_fraction 0.01", "leave one part empty"}),
               [ds] {
                 Generator g(1);
                 data::train_test_split(ds, 0.01, g);
               },
               {ds.features}});
  r.push_back(
      {"make_spirals: one class", raises<ValueError>("make_spirals", {"num_classes", "got 1"}), [] {
         Generator g(1);
         data::make_spirals<double>(4, 1, 0.1, g);
       }});
  r.push_back({"make_spirals: zero points",
               raises<ValueError>("make_spirals", {"points_per_class", "got 0"}), [] {
                 Generator g(1);
                 data::make_spirals<double>(0, 2, 0.1, g);
               }});
  r.push_back({"make_spirals: negative noise",
               raises<ValueError>("make_spirals", {"noise", "got -0.1"}), [] {
                 Generator g(1);
                 data::make_spirals<double>(4, 2, -0.1, g);
               }});
  r.push_back(
      {"make_spirals: zero turns", raises<ValueError>("make_spirals", {"turns", "got 0"}), [] {
         Generator g(1);
         data::make_spirals<double>(4, 2, 0.1, g, 0.0);
       }});
  r.push_back({"random_split: lengths not adding up",
               raises<ValueError>("random_split", {"lengths [3, 2]", "the dataset's 4 rows"}),
               [ds] {
                 Generator g(1);
                 data::random_split(ds, {3, 2}, g);
               },
               {ds.features}});
  r.push_back({"random_split: lengths overflowing",
               raises<ValueError>("random_split", {"must add up to the dataset's 4 rows"}),
               [ds] {
                 Generator g(1);
                 data::random_split(ds, {std::numeric_limits<std::size_t>::max(), 5}, g);
               },
               {ds.features}});
  r.push_back(
      {"make_bars: size 3", raises<ValueError>("make_bars", {"size must be >= 4", "got 3"}), [] {
         Generator g(1);
         data::make_bars<double>(2, 3, 0.1, g);
       }});
  r.push_back(
      {"make_bars: no images", raises<ValueError>("make_bars", {"images_per_class", "got 0"}), [] {
         Generator g(1);
         data::make_bars<double>(0, 8, 0.1, g);
       }});
  r.push_back({"make_bars: NaN noise", raises<ValueError>("make_bars", {"noise", "got nan"}), [] {
                 Generator g(1);
                 data::make_bars<double>(2, 8, std::nan(""), g);
               }});
  r.push_back(
      {"make_bars: too many pixels", raises<ValueError>("make_bars", {"too many elements"}), [] {
         Generator g(1);
         data::make_bars<double>(std::size_t(1) << 40, std::size_t(1) << 12, 0.1, g);
       }});
  r.push_back({"accuracy: undefined logits",
               raises<ValueError>("accuracy", {"logits are undefined"}),
               [u] { data::accuracy(u, Labels({0})); }});
  r.push_back({"accuracy: rows differ",
               raises<ShapeError>("accuracy", {"logits [N, C]", "got [2, 3] and [1]"}), [] {
                 data::accuracy(zeros<double>({2, 3}), Labels({0}));
               }});
  r.push_back({"DataLoader: batch_size 0",
               raises<ValueError>("DataLoader", {"batch_size", "got 0"}),
               [ds] { data::DataLoader<double>(ds, 0, false); },
               {ds.features}});
  r.push_back(
      {"DataLoader: malformed dataset",
       raises<ShapeError>("DataLoader", {"features [N, ...] and labels [N]", "got [4, 2] and [2]"}),
       [bad] { data::DataLoader<double>(bad, 2, false); },
       {bad.features}});
  r.push_back({"DataLoader::batch: out of range",
               raises<ValueError>("DataLoader::batch", {"index 7 out of range", "2 batches"}),
               [ds] { data::DataLoader<double>(ds, 2, false).batch(7); },
               {ds.features}});
}

BOOST_AUTO_TEST_SUITE_END()  // test_data
