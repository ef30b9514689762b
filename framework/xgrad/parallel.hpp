// Intra-op threads, named as in libtorch (torch::set_num_threads /
// torch::get_num_threads).
//
// Large elementwise and broadcasting ops, reductions, softmax and loss rows,
// optimizer updates, matrix products and the quantization kernels split
// their work over this many threads (OpenMP). OpenBLAS itself runs on one
// thread: a large product is cut into blocks, each one OpenBLAS call, and the
// threads take the blocks, so there is one pool. Small tensors stay on the
// calling thread.
//
// Results never depend on the count, on any OpenBLAS kernel set: work is
// split only over independent elements or rows, a product is cut into blocks
// by its shape alone (the same calls at one thread and at N), and long sums
// add fixed chunks in a fixed order.
//
// Default: the environment variable XGRAD_NUM_THREADS when it holds a positive
// integer, else the machine's cores. Built without OpenMP, xgrad's kernels run
// on the calling thread whatever the count.
#pragma once

namespace xgrad {

// Sets the thread count for xgrad's kernels (OpenBLAS stays at one thread).
// ValueError unless n >= 1. Not meant to be called while another thread runs
// xgrad ops.
void set_num_threads(int n);

// The current thread count (>= 1).
int get_num_threads();

}  // namespace xgrad
