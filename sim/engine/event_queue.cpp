#include "sim/engine/event_queue.hpp"

namespace hgca {

void EventQueue::push(const Event& e) {
  heap_.push_back(e);
  size_t i = heap_.size() - 1;
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!runs_before(heap_[i], heap_[parent])) break;
    std::swap(heap_[i], heap_[parent]);
    i = parent;
  }
}

Event EventQueue::pop() {
  Event out = heap_[0];
  const Event last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return out;
  // Sift the former last element down from the root.
  size_t i = 0;
  while (true) {
    const size_t l = 2 * i + 1;
    if (l >= n) break;
    size_t c = l;
    if (l + 1 < n && runs_before(heap_[l + 1], heap_[l])) c = l + 1;
    if (!runs_before(heap_[c], last)) break;
    heap_[i] = heap_[c];
    i = c;
  }
  heap_[i] = last;
  return out;
}

}  // namespace hgca
