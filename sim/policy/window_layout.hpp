// Where a sequence's KV entries live under a GPU window with sinks and batched eviction.
// The window holds between `window` and `window + eviction_batch - 1` recent tokens: tokens leave it
// `eviction_batch` at a time, the moment that many have overflowed it.
#pragma once

#include <algorithm>
#include <cstdint>

namespace hgca {

struct WindowLayout {
  int64_t gpu = 0;       // entries on the GPU (sinks + window part)
  int64_t cpu = 0;       // entries moved to CPU memory
  bool evicts_now = false;  // the token just appended made a batch leave the window

  static WindowLayout of(int64_t context, int64_t sinks, int64_t window, int64_t eviction_batch) {
    WindowLayout w;
    const int64_t s = std::min(sinks, context);
    const int64_t over = context - s - window;
    const int64_t eb = std::max<int64_t>(1, eviction_batch);
    w.cpu = over > 0 ? (over / eb) * eb : 0;
    w.gpu = context - w.cpu;
    w.evicts_now = over > 0 && over % eb == 0;
    return w;
  }
};

}  // namespace hgca
