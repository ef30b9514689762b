// train_mlp's spirals MLP, trained data-parallel over MPI: every process holds
// the model, trains on its DistributedSampler shard with batches of 32 / W
// rows, and DistributedDataParallel averages the gradients, so W processes
// train like one with batch 32. Only rank 0 prints. At the end every rank
// checks that it holds exactly rank 0's parameters.
//
//   mpirun -np 2 build/examples/train_ddp
//   build/examples/train_ddp            (one process)
#include <chrono>
#include <cstdio>
#include <memory>

#include "spirals_mlp.hpp"
#include "xgrad/data.hpp"
#include "xgrad/distributed/distributed_data_parallel.hpp"
#include "xgrad/distributed/distributed_sampler.hpp"
#include "xgrad/distributed/process_group.hpp"
#include "xgrad/grad_mode.hpp"
#include "xgrad/ops/loss.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/lr_scheduler.hpp"

using namespace xgrad;
using distributed::DistributedDataParallel;
using distributed::DistributedSampler;
using distributed::ProcessGroup;

namespace {

double accuracy_on(Module<float>& model, const data::Dataset<float>& dataset) {
  NoGradGuard no_grad;
  return data::accuracy(model.forward(dataset.features), dataset.labels);
}

int run(ProcessGroup& group) {
  const int epochs = 30;
  const std::size_t global_batch = 32;
  const bool main_rank = group.rank() == 0;
  const auto world = static_cast<std::size_t>(group.size());
  XGRAD_CHECK(global_batch % world == 0, ValueError,
              "train_ddp: the batch of 32 rows does not split over ", world,
              " processes (use 1, 2, 4, 8, 16 or 32)");

  // The same data on every rank (same seed); each trains on its shard.
  Generator gen(2024);
  const auto spirals = data::make_spirals<float>(300, 3, 0.03f, gen);
  const auto [train, test] = data::train_test_split(spirals, 0.2, gen);
  DistributedSampler sampler(train.size(), world, static_cast<std::size_t>(group.rank()),
                             /*shuffle=*/true, /*seed=*/7);
  data::DataLoader<float> loader(train, global_batch / world, [&] { return sampler.indices(); });
  if (main_rank) {
    std::printf(
        "spirals: %zu train, %zu test points; %zu process(es) (%s), %zu rows each per "
        "batch of %zu\n",
        train.size(), test.size(), world, ProcessGroup::backend(), global_batch / world,
        global_batch);
  }

  // Rank 0's initial weights everywhere (the constructor broadcasts them).
  Generator init(static_cast<std::uint64_t>(group.rank()));
  auto model = std::make_shared<DistributedDataParallel<float>>(make_spirals_mlp(init), group);
  optim::Adam<float> optimizer(model->parameters(), optim::AdamOptions(1e-2));
  optim::CosineAnnealingLR<float> schedule(optimizer, epochs);

  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    sampler.set_epoch(static_cast<std::uint64_t>(epoch));
    Tensor<float> loss_sum = scalar(0.0f);
    for (const auto& batch : loader) {
      optimizer.zero_grad();
      Tensor<float> loss = cross_entropy(model->forward(batch.features), batch.labels);
      loss.backward();
      model->all_reduce_gradients();
      optimizer.step();
      loss_sum.mutable_data()() += loss.item() * static_cast<float>(batch.size());
    }
    schedule.step();
    group.all_reduce(loss_sum);  // over every rank's rows
    const double train_accuracy = accuracy_on(*model, train);
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (main_rank) {
      std::printf("epoch %2d  loss %.4f  train accuracy %5.1f%%  lr %.5f  %.2f s\n", epoch,
                  loss_sum.item() / static_cast<double>(sampler.total_size()), 100 * train_accuracy,
                  optimizer.lr(0), elapsed);
    }
  }
  if (main_rank) std::printf("test accuracy %.1f%%\n", 100 * accuracy_on(*model, test));

  // Every rank must hold rank 0's parameters bit for bit.
  int differing = 0;
  for (const Tensor<float>& p : model->parameters()) {
    Tensor<float> rank0 = p.detach().clone();
    group.broadcast(rank0, 0);
    differing += rank0.data() != p.data();
  }
  Tensor<float> any = scalar(static_cast<float>(differing));
  group.all_reduce(any);
  if (main_rank) {
    std::printf("parameters %s on all ranks\n", any.item() == 0 ? "identical" : "DIFFER");
  }
  return any.item() == 0 ? 0 : 1;
}

}  // namespace

int main() {
  ProcessGroup group;
  // An exception on one rank ends the whole job with its message, instead of
  // leaving the other ranks waiting for it.
  return distributed::run_or_abort(group, [&] { return run(group); });
}
