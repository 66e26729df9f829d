#include "storage/db.h"

#include <ctime>
#include <thread>

#include "common/clock.h"
#include "storage/access_stats.h"
#include "storage/lazy_free.h"

namespace shoal::storage {

Db::~Db() { Clear(); }

bool Db::IsExpired(Entry* e, int64_t now_ms) {
  if (!e->value.has_expire()) return false;
  ExpireNode* n = expires_.Find(e);
  return n != nullptr && n->when_ms <= now_ms;
}

void Db::SaveNow(Entry* e) {
  saver_->Save(e);
  MarkSaved(e);
}

void Db::SaveAllPending() {
  if (saver_ == nullptr) return;
  uint64_t cursor = 0;
  do {
    cursor = keys_.Scan(cursor, [this](Entry* e) { BeforeUse(e); });
  } while (cursor != 0);
}

Entry* Db::Find(std::string_view key, int64_t now_ms, uint8_t flags) {
  Entry* e = keys_.Find(key);
  if (e != nullptr) BeforeUse(e);
  if (e != nullptr && IsExpired(e, now_ms)) {
    Erase(e);
    ++stats_.expired_keys;
    e = nullptr;
  }
  if (flags & kLookupRead) ++(e != nullptr ? stats_.keyspace_hits : stats_.keyspace_misses);
  if (e != nullptr && (flags & kLookupTouch)) {
    e->access_time = AccessStats::OnAccess(e->access_time, now_ms,
                                           std::uniform_real_distribution<double>()(rng_));
  }
  return e;
}

Entry* Db::Insert(std::string_view key, Value value) {
  Entry* e = new Entry();
  e->key.Reset(key);
  MarkSaved(e);  // Not part of a snapshot already running.
  e->access_time = AccessStats::Initial(UnixTimeMs());
  e->value = std::move(value);
  e->value.set_has_expire(false);
  keys_.Insert(e);
  NoteIfBlockable(e);
  return e;
}

void Db::NoteIfBlockable(const Entry* e) {
  if (ready_hook_ == nullptr) return;
  ValueType t = e->value.type();
  if (t == ValueType::kList || t == ValueType::kZSet) ready_hook_(ready_hook_arg_, e->key_view());
}

void Db::Replace(Entry* e, Value value, bool keep_ttl) {
  bool had_expire = e->value.has_expire();
  e->value = std::move(value);
  if (had_expire && !keep_ttl) {
    ExpireNode* n = expires_.Remove(e);
    delete n;
    had_expire = false;
  }
  e->value.set_has_expire(had_expire);
  NoteIfBlockable(e);
}

Entry* Db::Upsert(std::string_view key, Value value, int64_t now_ms, bool keep_ttl) {
  Entry* e = Find(key, now_ms);
  if (e == nullptr) return Insert(key, std::move(value));
  Replace(e, std::move(value), keep_ttl);
  return e;
}

bool Db::Erase(std::string_view key, int64_t now_ms) {
  Entry* e = keys_.Find(key);
  if (e == nullptr) return false;
  bool live = !IsExpired(e, now_ms);
  if (!live) ++stats_.expired_keys;
  Erase(e);
  return live;
}

bool Db::EraseLazily(std::string_view key, int64_t now_ms) {
  Entry* e = keys_.Find(key);
  if (e == nullptr) return false;
  bool live = !IsExpired(e, now_ms);
  if (!live) ++stats_.expired_keys;
  int64_t unused;
  Value v = Take(e, &unused);
  if (WorthFreeingLazily(v)) FreeLazily(std::move(v));
  return live;
}

void Db::Erase(Entry* e) {
  BeforeUse(e);
  if (e->value.has_expire()) delete expires_.Remove(e);
  keys_.Remove(e->key_view());
  delete e;
}

Value Db::Take(Entry* e, int64_t* when_ms) {
  BeforeUse(e);
  *when_ms = GetExpire(e);
  ClearExpire(e);
  Value v = std::move(e->value);
  keys_.Remove(e->key_view());
  delete e;
  return v;
}

int64_t Db::GetExpire(const Entry* e) {
  if (!e->value.has_expire()) return -1;
  ExpireNode* n = expires_.Find(e);
  return n == nullptr ? -1 : n->when_ms;
}

void Db::SetExpire(Entry* e, int64_t when_ms) {
  if (e->value.has_expire()) {
    ExpireNode* n = expires_.Find(e);
    if (n != nullptr) {
      n->when_ms = when_ms;
      return;
    }
  }
  ExpireNode* n = new ExpireNode{nullptr, e, when_ms};
  expires_.Insert(n);
  e->value.set_has_expire(true);
}

bool Db::ClearExpire(Entry* e) {
  if (!e->value.has_expire()) return false;
  delete expires_.Remove(e);
  e->value.set_has_expire(false);
  return true;
}

uint64_t Db::Scan(uint64_t cursor, int64_t now_ms, const std::function<void(Entry*)>& fn) {
  return keys_.Scan(cursor, [&](Entry* e) {
    BeforeUse(e);
    if (!IsExpired(e, now_ms)) fn(e);
  });
}

Entry* Db::RandomEntry(int64_t now_ms) {
  // Bounded retries: a database full of expired keys must not spin forever.
  for (int tries = 0; tries < 100 && !keys_.empty(); ++tries) {
    Entry* e = keys_.Random(rng_);
    BeforeUse(e);
    if (!IsExpired(e, now_ms)) return e;
    Erase(e);
    ++stats_.expired_keys;
  }
  return nullptr;
}

size_t Db::ExpireSample(int64_t now_ms, size_t samples) {
  size_t expired = 0;
  for (size_t i = 0; i < samples && !expires_.empty(); ++i) {
    ExpireNode* n = expires_.Random(rng_);
    if (n->when_ms <= now_ms) {
      Erase(n->entry);
      ++stats_.expired_keys;
      ++expired;
    }
  }
  return expired;
}

bool Db::RehashSome(size_t steps) {
  bool a = keys_.Rehash(steps);
  bool b = expires_.Rehash(steps);
  return a || b;
}

void Db::Clear(bool lazy) {
  SaveAllPending();
  constexpr size_t kLazyThreshold = 64 * 1024;  // Below this, freeing inline is quicker.
  if (lazy && keys_.size() > kLazyThreshold) {
    struct Graveyard {
      Dict<Entry, std::string_view, EntryTraits> keys;
      Dict<ExpireNode, const Entry*, ExpireTraits> expires;
    };
    auto* g = new Graveyard{std::move(keys_), std::move(expires_)};
    // Only memory crosses to the other thread, never a key anyone can still reach.
    std::thread([g] {
      g->expires.Clear([](ExpireNode* n) { delete n; });
      g->keys.Clear([](Entry* e) { delete e; });
      delete g;
    }).detach();
    return;
  }
  expires_.Clear([](ExpireNode* n) { delete n; });
  keys_.Clear([](Entry* e) { delete e; });
}

}  // namespace shoal::storage
