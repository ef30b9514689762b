// Intra-op threads, named as in libtorch (torch::set_num_threads /
// torch::get_num_threads).
//
// Large elementwise and broadcasting ops, reductions, softmax and loss rows,
// optimizer updates and the quantization kernels split their work over this
// many threads (OpenMP); matrix products run on OpenBLAS's threads, which
// set_num_threads sizes to the same count, so the two pools never ask for more
// cores than the count between them. Small tensors stay on the calling thread.
//
// Results never depend on the count: work is split only over independent
// elements or rows, and long sums add fixed-size chunks in a fixed order.
//
// Default: the environment variable XGRAD_NUM_THREADS when it holds a positive
// integer, else the machine's cores. Built without OpenMP, xgrad's own kernels
// run on the calling thread whatever the count (OpenBLAS still follows it).
#pragma once

namespace xgrad {

// Sets the thread count for xgrad's kernels and OpenBLAS. ValueError unless
// n >= 1. Not meant to be called while another thread runs xgrad ops.
void set_num_threads(int n);

// The current thread count (>= 1).
int get_num_threads();

}  // namespace xgrad
