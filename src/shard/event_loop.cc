#include "shard/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
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

int64_t EventLoop::MsUntilNextTimer(int64_t now_ms) const {
  int64_t best = -1;
  for (const Timer& t : timers_) {
    int64_t wait = std::max<int64_t>(0, t.next_due_ms - now_ms);
    if (best < 0 || wait < best) best = wait;
  }
  return best;
}

void EventLoop::RunDueTimers(int64_t now_ms) {
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
  if (!timers_.empty()) RunDueTimers(NowMs());
  return n;
}

}  // namespace shoal::shard
