#include "server/watch.h"

namespace shoal::server {

namespace {
thread_local WatchRegistry t_watches;
}  // namespace

WatchRegistry& ThisShardWatches() { return t_watches; }

std::atomic<int64_t> WatchRegistry::total_{0};

void WatchRegistry::Watch(int db, std::string_view key, std::shared_ptr<WatchState> state,
                          bool existed) {
  if (static_cast<size_t>(db) >= dbs_.size()) dbs_.resize(db + 1);
  auto& list = dbs_[db][std::string(key)];
  for (const Watcher& w : list) {
    if (w.state == state) return;
  }
  list.push_back(Watcher{std::move(state), existed});
  watched_++;
  total_.fetch_add(1, std::memory_order_acq_rel);
}

void WatchRegistry::Unwatch(int db, std::string_view key, const WatchState* state) {
  if (static_cast<size_t>(db) >= dbs_.size()) return;
  auto it = dbs_[db].find(absl::string_view(key.data(), key.size()));
  if (it == dbs_[db].end()) return;
  auto& list = it->second;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].state.get() == state) {
      list.erase(list.begin() + static_cast<ptrdiff_t>(i));
      watched_--;
      total_.fetch_sub(1, std::memory_order_acq_rel);
      break;
    }
  }
  if (list.empty()) dbs_[db].erase(it);
}

void WatchRegistry::TouchSlow(int db, std::string_view key) {
  if (static_cast<size_t>(db) >= dbs_.size()) return;
  auto it = dbs_[db].find(absl::string_view(key.data(), key.size()));
  if (it == dbs_[db].end()) return;
  for (Watcher& w : it->second) w.state->dirty.store(true, std::memory_order_relaxed);
}

void WatchRegistry::TouchExisting(int db, storage::Db& data, int64_t now_ms) {
  if (static_cast<size_t>(db) >= dbs_.size()) return;
  for (auto& [key, list] : dbs_[db]) {
    if (data.Find(key, now_ms, storage::kLookupNoTouch) == nullptr) continue;
    for (Watcher& w : list) w.state->dirty.store(true, std::memory_order_relaxed);
  }
}

bool WatchRegistry::Changed(int db, std::string_view key, const WatchState& state,
                            storage::Db& data, int64_t now_ms) {
  if (static_cast<size_t>(db) >= dbs_.size()) return false;
  auto it = dbs_[db].find(absl::string_view(key.data(), key.size()));
  if (it == dbs_[db].end()) return false;
  for (const Watcher& w : it->second) {
    if (w.state.get() != &state) continue;
    if (w.state->dirty.load(std::memory_order_relaxed)) return true;
    return w.existed && data.Find(key, now_ms, storage::kLookupNoTouch) == nullptr;
  }
  return false;
}

}  // namespace shoal::server
