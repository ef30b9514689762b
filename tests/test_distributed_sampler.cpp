// DistributedSampler: every rank's shard computed in one process (the sampler
// needs no communication), checked for coverage, disjointness, padding and
// per-epoch reshuffling.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <map>
#include <vector>

#include "test_util.hpp"
#include "xgrad/data.hpp"
#include "xgrad/distributed/distributed_sampler.hpp"
#include "xgrad/errors.hpp"

using xgrad::ValueError;
using xgrad::distributed::DistributedSampler;

namespace {

// Every rank's indices for one epoch, by rank.
std::vector<std::vector<std::size_t>> shards(std::size_t n, std::size_t world, bool shuffle,
                                             std::uint64_t seed, std::uint64_t epoch,
                                             bool drop_last = false) {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t rank = 0; rank < world; ++rank) {
    DistributedSampler sampler(n, world, rank, shuffle, seed, drop_last);
    sampler.set_epoch(epoch);
    out.push_back(sampler.indices());
  }
  return out;
}

// How often each row occurs over all shards.
std::map<std::size_t, int> counts(const std::vector<std::vector<std::size_t>>& all) {
  std::map<std::size_t, int> c;
  for (const auto& shard : all) {
    for (std::size_t i : shard) ++c[i];
  }
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_row_is_used_exactly_once_per_epoch_when_the_ranks_divide_it) {
  for (std::size_t world : {1, 2, 3, 4}) {
    for (bool shuffle : {false, true}) {
      for (std::uint64_t epoch : {0, 1, 5}) {
        BOOST_TEST_CONTEXT("world " << world << " shuffle " << shuffle << " epoch " << epoch) {
          const std::size_t n = 12;
          const auto all = shards(n, world, shuffle, 3, epoch);
          for (const auto& shard : all) BOOST_TEST(shard.size() == n / world);
          const auto c = counts(all);
          BOOST_TEST(c.size() == n);
          for (const auto& [row, times] : c) {
            BOOST_TEST(row < n);
            BOOST_TEST(times == 1);
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(without_shuffle_rank_r_takes_every_world_size_th_row) {
  const auto all = shards(7, 3, false, 0, 0);
  // Padded to 9 with rows 0 and 1: rank 1 ends with row 0 (entry 7), rank 2
  // with row 1 (entry 8).
  BOOST_TEST(all[0] == (std::vector<std::size_t>{0, 3, 6}));
  BOOST_TEST(all[1] == (std::vector<std::size_t>{1, 4, 0}));
  BOOST_TEST(all[2] == (std::vector<std::size_t>{2, 5, 1}));
}

BOOST_AUTO_TEST_CASE(padding_repeats_the_first_rows_of_the_epochs_order) {
  // 10 rows on 4 ranks: 3 each, 12 in all, so the first 2 rows of the
  // epoch's permutation are used twice and every other row once.
  const std::size_t n = 10, world = 4;
  DistributedSampler rank0(n, world, 0, true, 9);
  BOOST_TEST(rank0.num_samples() == 3u);
  BOOST_TEST(rank0.total_size() == 12u);
  // Entry k of the padded list goes to rank k mod 4: entries 10 and 11, the
  // padding, repeat entries 0 and 1 and are the last of ranks 2 and 3.
  const auto all = shards(n, world, true, 9, 0);
  BOOST_TEST(all[2][2] == all[0][0]);
  BOOST_TEST(all[3][2] == all[1][0]);
  const auto c = counts(all);
  BOOST_TEST(c.size() == n);
  int twice = 0;
  for (const auto& [row, times] : c) {
    BOOST_TEST((times == 1 || times == 2));
    twice += times == 2;
  }
  BOOST_TEST(twice == 2);
}

BOOST_AUTO_TEST_CASE(a_dataset_smaller_than_the_world_is_repeated_to_fill_every_rank) {
  const auto all = shards(2, 5, false, 0, 0);
  const std::vector<std::vector<std::size_t>> expected = {{0}, {1}, {0}, {1}, {0}};
  BOOST_TEST(all == expected);
}

BOOST_AUTO_TEST_CASE(drop_last_cuts_the_tail_so_no_row_is_used_twice) {
  const std::size_t n = 10, world = 4;
  const auto all = shards(n, world, true, 9, 2, /*drop_last=*/true);
  for (const auto& shard : all) BOOST_TEST(shard.size() == 2u);
  const auto c = counts(all);
  BOOST_TEST(c.size() == 8u);
  for (const auto& [row, times] : c) BOOST_TEST(times == 1);
}

BOOST_AUTO_TEST_CASE(set_epoch_reshuffles_the_same_way_on_every_rank) {
  DistributedSampler a(20, 2, 0, true, 5), b(20, 2, 0, true, 5), other_seed(20, 2, 0, true, 6);
  BOOST_TEST(a.epoch() == 0u);
  const auto epoch0 = a.indices();
  BOOST_TEST(b.indices() == epoch0);
  BOOST_TEST(other_seed.indices() != epoch0);
  a.set_epoch(1);
  BOOST_TEST(a.epoch() == 1u);
  BOOST_TEST(a.indices() != epoch0);
  // The permutation is that of seed + epoch: seed 6, epoch 0 is seed 5, epoch 1.
  BOOST_TEST(a.indices() == other_seed.indices());
  // The shards of one epoch stay disjoint after reshuffling.
  const auto all = shards(20, 2, true, 5, 1);
  for (std::size_t i : all[0]) {
    BOOST_TEST(std::count(all[1].begin(), all[1].end(), i) == 0);
  }
}

BOOST_AUTO_TEST_CASE(an_empty_dataset_gives_empty_shards) {
  for (bool drop_last : {false, true}) {
    DistributedSampler sampler(0, 3, 2, true, 0, drop_last);
    BOOST_TEST(sampler.num_samples() == 0u);
    BOOST_TEST(sampler.indices().empty());
  }
}

BOOST_AUTO_TEST_CASE(bad_ranks_throw_value_error) {
  BOOST_CHECK_EXCEPTION(DistributedSampler(10, 0, 0), ValueError,
                        xgrad_test::mentions<ValueError>("num_replicas must be >= 1, got 0"));
  BOOST_CHECK_EXCEPTION(DistributedSampler(10, 2, 2), ValueError,
                        xgrad_test::mentions<ValueError>("rank must be in [0, 2), got 2"));
}

BOOST_AUTO_TEST_CASE(a_data_loader_reads_the_shard_of_the_current_epoch) {
  const std::size_t n = 8;
  xt::xarray<double> f = xt::zeros<double>({n, std::size_t{1}});
  for (std::size_t i = 0; i < n; ++i) f(i, 0) = static_cast<double>(i);
  const xgrad::data::Dataset<double> dataset{xgrad::Tensor<double>(f),
                                             xt::zeros<std::int64_t>({n})};
  DistributedSampler sampler(n, 2, 1, true, 4);
  xgrad::data::DataLoader<double> loader(dataset, 3, [&sampler] { return sampler.indices(); });
  BOOST_TEST(loader.num_batches() == 2u);  // 4 rows: 3 + 1
  for (std::uint64_t epoch : {0, 1}) {
    sampler.set_epoch(epoch);
    std::vector<std::size_t> rows;
    for (const auto& batch : loader) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        rows.push_back(static_cast<std::size_t>(batch.features.data()(i, 0)));
      }
    }
    BOOST_TEST(rows == sampler.indices());
  }
}
