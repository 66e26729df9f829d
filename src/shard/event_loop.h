// EventLoop: one thread's epoll loop, with periodic timers. Each shard thread runs exactly one.
// Thread: all methods except Wake() run on the loop's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace shoal::shard {

// Something with a file descriptor the loop watches.
class Watcher {
 public:
  virtual ~Watcher() = default;
  // `events` is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...).
  virtual void OnEvents(uint32_t events) = 0;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void Add(int fd, uint32_t events, Watcher* w);
  void Modify(int fd, uint32_t events, Watcher* w);
  void Remove(int fd);

  // Runs `fn` every `interval_ms` on this loop.
  void AddTimer(int64_t interval_ms, std::function<void()> fn);

  // Runs `fn` once, `delay_ms` from now (blocked clients' timeouts). Returns an id for
  // CancelOnce; ids are never reused.
  uint64_t RunOnceAfter(int64_t delay_ms, std::function<void()> fn);
  // Drops a pending one-shot timer; no-op if it already ran.
  void CancelOnce(uint64_t id);

  // Waits for events at most `max_wait_ms` (-1: until a timer is due), dispatches them and runs
  // due timers. Returns the number of fd events handled.
  int RunOnce(int max_wait_ms);

 private:
  struct Timer {
    int64_t interval_ms;
    int64_t next_due_ms;
    std::function<void()> fn;
  };
  int64_t MsUntilNextTimer(int64_t now_ms) const;
  void RunDueTimers(int64_t now_ms);

  int epfd_;
  std::vector<Timer> timers_;
  // One-shot timers by (due, id): the earliest is first.
  std::map<std::pair<int64_t, uint64_t>, std::function<void()>> once_;
  absl::flat_hash_map<uint64_t, int64_t> once_due_;  // id -> due, for CancelOnce.
  uint64_t next_once_id_ = 1;
};

}  // namespace shoal::shard
