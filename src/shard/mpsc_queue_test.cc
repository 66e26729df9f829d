#include "shard/mpsc_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace shoal::shard {
namespace {

struct Item : MpscNode {
  int producer;
  int seq;
};

TEST(MpscQueueTest, SingleThreadFifo) {
  MpscQueue q;
  EXPECT_EQ(q.Pop(), nullptr);
  EXPECT_FALSE(q.MaybeNonEmpty());
  Item items[3];
  for (int i = 0; i < 3; ++i) {
    items[i].seq = i;
    q.Push(&items[i]);
  }
  for (int i = 0; i < 3; ++i) {
    auto* it = static_cast<Item*>(q.Pop());
    ASSERT_NE(it, nullptr);
    EXPECT_EQ(it->seq, i);
  }
  EXPECT_EQ(q.Pop(), nullptr);
  EXPECT_FALSE(q.MaybeNonEmpty());
}

// Many producers, one consumer: every item arrives exactly once, and each producer's items
// arrive in the order it pushed them.
TEST(MpscQueueTest, MultiProducerStress) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 200000;
  MpscQueue q;
  std::vector<std::unique_ptr<Item[]>> items;
  for (int p = 0; p < kProducers; ++p) items.emplace_back(new Item[kPerProducer]);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        items[p][i].producer = p;
        items[p][i].seq = i;
        q.Push(&items[p][i]);
      }
    });
  }
  std::vector<int> next(kProducers, 0);
  int received = 0;
  while (received < kProducers * kPerProducer) {
    MpscNode* n = q.Pop();
    if (n == nullptr) continue;
    auto* it = static_cast<Item*>(n);
    ASSERT_EQ(it->seq, next[it->producer]) << "producer " << it->producer;
    ++next[it->producer];
    ++received;
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(q.Pop(), nullptr);
}

}  // namespace
}  // namespace shoal::shard
