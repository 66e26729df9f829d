#include "shard/shard_set.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace shoal::shard {
namespace {

TEST(ShardSetTest, OwnerIsStableAndSpread) {
  ShardSet set(4, 1);
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 10000; ++i) {
    std::string k = "key:" + std::to_string(i);
    ShardId s = set.OwnerOf(k);
    ASSERT_LT(s, 4u);
    EXPECT_EQ(s, set.OwnerOf(k));
    ++counts[s];
  }
  for (int c : counts) EXPECT_GT(c, 2000);
}

// Ping-pong between shards through their inboxes: every message runs on its target's thread,
// and replies come back to the sender's thread. Exercises the sleep/wake handshake heavily.
TEST(ShardSetTest, CrossShardPingPong) {
  constexpr int kRounds = 20000;
  ShardSet set(3, 1);
  set.Start();
  std::atomic<int> done{0};
  std::atomic<bool> wrong_thread{false};
  for (ShardId origin = 0; origin < 3; ++origin) {
    Shard* from = &set.shard(origin);
    Shard* to = &set.shard((origin + 1) % 3);
    // A counter owned by the origin shard; only touched on its thread.
    auto* count = new int(0);
    auto* step = new std::function<void()>();
    *step = [=, &done, &wrong_thread] {
      to->Post([=, &done, &wrong_thread] {
        if (!to->IsCurrentThread()) wrong_thread = true;
        from->Post([=, &done, &wrong_thread] {
          if (!from->IsCurrentThread()) wrong_thread = true;
          if (++*count == kRounds) {
            done++;
            delete count;
            delete step;  // Safe: this lambda is a copy posted to `from`, not *step itself.
          } else {
            (*step)();
          }
        });
      });
    };
    from->Post([step] { (*step)(); });
  }
  for (int i = 0; i < 600 && done.load() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(done.load(), 3);
  EXPECT_FALSE(wrong_thread.load());
  set.StopAndJoin();
}


// Every shard at once makes synchronous calls into the next one (a cycle of waits): each thread
// serves the calls made to it while it waits for its own, so all of them finish.
TEST(ShardSetTest, CallSyncInACycleDoesNotDeadlock) {
  constexpr int kCalls = 2000;
  constexpr ShardId kShards = 3;
  ShardSet set(kShards, 1);
  set.Start();
  std::atomic<int> done{0};
  std::atomic<bool> wrong_thread{false};
  std::vector<int> counters(kShards, 0);  // counters[i] is touched only on shard i's thread.
  for (ShardId origin = 0; origin < kShards; ++origin) {
    Shard* from = &set.shard(origin);
    Shard* to = &set.shard((origin + 1) % kShards);
    int* counter = &counters[(origin + 1) % kShards];
    from->Post([=, &done, &wrong_thread] {
      for (int i = 0; i < kCalls; ++i) {
        from->CallSync(*to, [&] {
          if (!to->IsCurrentThread()) wrong_thread = true;
          ++*counter;
        });
      }
      done++;
    });
  }
  for (int i = 0; i < 600 && done.load() < static_cast<int>(kShards); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(done.load(), static_cast<int>(kShards));
  EXPECT_FALSE(wrong_thread.load());
  set.StopAndJoin();
  for (int c : counters) EXPECT_EQ(c, kCalls);
}

}  // namespace
}  // namespace shoal::shard
