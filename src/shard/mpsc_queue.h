// MpscQueue: an unbounded lock-free queue with many producers and one consumer, the inbox of a
// shard. Intrusive (the node carries the link) and in the style of Dmitry Vyukov's MPSC queue:
// a push is one atomic exchange, a pop touches no shared cache line in the common case.
//
// Producers: any thread. Consumer: only the owning shard thread.
// A pop may transiently see the queue as empty while a push is half done (between the exchange
// and the link store); the pushed node becomes visible once the producer finishes, and the
// producer's wake-up (see Shard::Post) guarantees the consumer looks again.
#pragma once

#include <atomic>

namespace shoal::shard {

struct MpscNode {
  std::atomic<MpscNode*> mpsc_next{nullptr};
};

class MpscQueue {
 public:
  MpscQueue() : head_(&stub_), tail_(&stub_) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Thread-safe.
  void Push(MpscNode* node) {
    node->mpsc_next.store(nullptr, std::memory_order_relaxed);
    MpscNode* prev = head_.exchange(node, std::memory_order_acq_rel);
    prev->mpsc_next.store(node, std::memory_order_release);
  }

  // Consumer only. Returns nullptr if empty (or if a push is half done).
  MpscNode* Pop() {
    MpscNode* tail = tail_;
    MpscNode* next = tail->mpsc_next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->mpsc_next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    MpscNode* head = head_.load(std::memory_order_acquire);
    if (tail != head) return nullptr;  // A producer is between its exchange and its link.
    Push(&stub_);
    next = tail->mpsc_next.load(std::memory_order_acquire);
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }

  // Consumer only: true if a Pop() might return something.
  bool MaybeNonEmpty() const {
    return tail_ != &stub_ || tail_->mpsc_next.load(std::memory_order_acquire) != nullptr ||
           head_.load(std::memory_order_acquire) != &stub_;
  }

 private:
  alignas(64) std::atomic<MpscNode*> head_;  // Producers push here.
  alignas(64) MpscNode* tail_;               // The consumer pops here.
  MpscNode stub_;
};

}  // namespace shoal::shard
