#include "server/key_locks.h"

#include <algorithm>

namespace shoal::server {

namespace {
thread_local KeyLocks t_locks;
}  // namespace

KeyLocks& ThisShardLocks() { return t_locks; }

void LockRequest::Normalize() {
  auto less = [](const Key& a, const Key& b) {
    return a.db != b.db ? a.db < b.db : a.key < b.key;
  };
  std::sort(keys.begin(), keys.end(), less);
  size_t out = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (out > 0 && keys[out - 1].db == keys[i].db && keys[out - 1].key == keys[i].key) {
      keys[out - 1].exclusive = keys[out - 1].exclusive || keys[i].exclusive;
    } else {
      if (out != i) keys[out] = std::move(keys[i]);
      ++out;
    }
  }
  keys.resize(out);
}

KeyLocks::KeyState* KeyLocks::Find(int db, std::string_view key) {
  if (static_cast<size_t>(db) >= dbs_.size()) return nullptr;
  auto it = dbs_[db].find(absl::string_view(key.data(), key.size()));
  return it == dbs_[db].end() ? nullptr : &it->second;
}

const KeyLocks::KeyState* KeyLocks::Find(int db, std::string_view key) const {
  return const_cast<KeyLocks*>(this)->Find(db, key);
}

bool KeyLocks::Conflicts(int db, std::string_view key, bool write) const {
  if (granted_ == 0) return false;
  if (whole_exclusive_ || (write && whole_shared_ > 0)) return true;
  const KeyState* st = Find(db, key);
  if (st == nullptr) return false;
  return st->exclusive || (write && st->shared > 0);
}

bool KeyLocks::CompatibleWithGranted(const LockRequest& r) const {
  if (granted_ == 0) return true;
  if (whole_exclusive_) return false;
  if (r.whole_shard) return !r.whole_exclusive && exclusive_keys_ == 0;
  for (const LockRequest::Key& k : r.keys) {
    if (Conflicts(k.db, k.key, k.exclusive)) return false;
  }
  return true;
}

bool KeyLocks::RequestsConflict(const LockRequest& a, const LockRequest& b) {
  if (a.whole_shard || b.whole_shard) {
    const LockRequest& whole = a.whole_shard ? a : b;
    const LockRequest& other = a.whole_shard ? b : a;
    if (whole.whole_exclusive || (other.whole_shard && other.whole_exclusive)) return true;
    if (other.whole_shard) return false;  // Both shared.
    for (const LockRequest::Key& k : other.keys) {
      if (k.exclusive) return true;
    }
    return false;
  }
  // Both key lists are sorted (Normalize): walk them together.
  size_t i = 0, j = 0;
  while (i < a.keys.size() && j < b.keys.size()) {
    const LockRequest::Key& x = a.keys[i];
    const LockRequest::Key& y = b.keys[j];
    if (x.db != y.db ? x.db < y.db : x.key < y.key) {
      ++i;
    } else if (y.db != x.db ? y.db < x.db : y.key < x.key) {
      ++j;
    } else {
      if (x.exclusive || y.exclusive) return true;
      ++i;
      ++j;
    }
  }
  return false;
}

bool KeyLocks::CompatibleWithWaitersBefore(const LockRequest& r,
                                           std::list<LockRequest*>::const_iterator end) const {
  for (auto it = waiting_.begin(); it != end; ++it) {
    if (RequestsConflict(r, **it)) return false;
  }
  return true;
}

void KeyLocks::Grant(LockRequest* r) {
  granted_++;
  if (r->whole_shard) {
    if (r->whole_exclusive) {
      whole_exclusive_ = true;
    } else {
      whole_shared_++;
    }
    return;
  }
  for (const LockRequest::Key& k : r->keys) {
    if (static_cast<size_t>(k.db) >= dbs_.size()) dbs_.resize(k.db + 1);
    KeyState& st = dbs_[k.db][k.key];
    if (k.exclusive) {
      st.exclusive = true;
      exclusive_keys_++;
    } else {
      st.shared++;
    }
  }
}

bool KeyLocks::Acquire(LockRequest* r) {
  if (CompatibleWithGranted(*r) && CompatibleWithWaitersBefore(*r, waiting_.end())) {
    Grant(r);
    return true;
  }
  waiting_.push_back(r);
  return false;
}

void KeyLocks::Release(LockRequest* r) {
  granted_--;
  if (r->whole_shard) {
    if (r->whole_exclusive) {
      whole_exclusive_ = false;
    } else {
      whole_shared_--;
    }
  } else {
    for (const LockRequest::Key& k : r->keys) {
      auto& map = dbs_[k.db];
      auto it = map.find(k.key);
      if (k.exclusive) {
        it->second.exclusive = false;
        exclusive_keys_--;
      } else {
        it->second.shared--;
      }
      if (!it->second.exclusive && it->second.shared == 0) map.erase(it);
    }
  }
  // Grant, in order, every waiter that conflicts with nothing granted and no earlier waiter.
  std::vector<LockRequest*> granted;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    LockRequest* w = *it;
    if (CompatibleWithGranted(*w) && CompatibleWithWaitersBefore(*w, it)) {
      Grant(w);
      granted.push_back(w);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (LockRequest* w : granted) w->on_grant();
  if (!retries_.empty()) {
    std::vector<absl::AnyInvocable<void()>> retries;
    retries.swap(retries_);
    for (auto& fn : retries) fn();
  }
}

}  // namespace shoal::server
