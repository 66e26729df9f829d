#include "shard/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdlib>

#include "common/clock.h"
#include "common/logging.h"

namespace shoal::shard {

namespace {
int64_t NowMs() { return MonotonicUs() / 1000; }
}  // namespace

EventLoop::EventLoop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epfd_ < 0) {
    SHOAL_LOG(kWarning, "epoll_create1 failed: %s", strerror(errno));
    abort();
  }
}

EventLoop::~EventLoop() { close(epfd_); }

void EventLoop::Add(int fd, uint32_t events, Watcher* w) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = w;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    SHOAL_LOG(kWarning, "epoll_ctl ADD fd %d: %s", fd, strerror(errno));
  }
}

void EventLoop::Modify(int fd, uint32_t events, Watcher* w) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = w;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::AddTimer(int64_t interval_ms, std::function<void()> fn) {
  timers_.push_back(Timer{interval_ms, NowMs() + interval_ms, std::move(fn)});
}

uint64_t EventLoop::RunOnceAfter(int64_t delay_ms, std::function<void()> fn) {
  uint64_t id = next_once_id_++;
  int64_t due = NowMs() + std::max<int64_t>(0, delay_ms);
  once_.emplace(std::make_pair(due, id), std::move(fn));
  once_due_[id] = due;
  return id;
}

void EventLoop::CancelOnce(uint64_t id) {
  auto it = once_due_.find(id);
  if (it == once_due_.end()) return;
  once_.erase(std::make_pair(it->second, id));
  once_due_.erase(it);
}

int64_t EventLoop::MsUntilNextTimer(int64_t now_ms) const {
  int64_t best = -1;
  if (!once_.empty()) best = std::max<int64_t>(0, once_.begin()->first.first - now_ms);
  for (const Timer& t : timers_) {
    int64_t wait = std::max<int64_t>(0, t.next_due_ms - now_ms);
    if (best < 0 || wait < best) best = wait;
  }
  return best;
}

void EventLoop::RunDueTimers(int64_t now_ms) {
  while (!once_.empty() && once_.begin()->first.first <= now_ms) {
    auto it = once_.begin();
    std::function<void()> fn = std::move(it->second);
    once_due_.erase(it->first.second);
    once_.erase(it);
    fn();  // May add or cancel one-shots.
  }
  for (Timer& t : timers_) {
    if (t.next_due_ms <= now_ms) {
      t.next_due_ms = now_ms + t.interval_ms;
      t.fn();
    }
  }
}

int EventLoop::RunOnce(int max_wait_ms) {
  int64_t now = NowMs();
  int64_t timer_wait = MsUntilNextTimer(now);
  int wait = max_wait_ms;
  if (timer_wait >= 0 && (wait < 0 || timer_wait < wait)) wait = static_cast<int>(timer_wait);
  epoll_event events[256];
  int n = epoll_wait(epfd_, events, 256, wait);
  if (n < 0) {
    if (errno != EINTR) SHOAL_LOG(kWarning, "epoll_wait: %s", strerror(errno));
    n = 0;
  }
  for (int i = 0; i < n; ++i) {
    static_cast<Watcher*>(events[i].data.ptr)->OnEvents(events[i].events);
  }
  if (!timers_.empty() || !once_.empty()) RunDueTimers(NowMs());
  return n;
}

}  // namespace shoal::shard
