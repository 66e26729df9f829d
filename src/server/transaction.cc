#include "server/transaction.h"

#include <algorithm>

#include "server/blocking.h"
#include "server/log_acks.h"
#include "server/write_log.h"
#include "server/watch.h"
#include "shard/shard_set.h"

namespace shoal::server {

LockRequest& Transaction::RequestFor(shard::ShardId shard) {
  auto it = std::lower_bound(parts_.begin(), parts_.end(), shard,
                             [](const Part& p, shard::ShardId s) { return p.shard < s; });
  if (it == parts_.end() || it->shard != shard) {
    it = parts_.insert(it, Part{shard, std::make_unique<LockRequest>()});
  }
  return *it->request;
}

void Transaction::AddAllShards(bool exclusive) {
  all_shards_ = true;
  for (size_t i = 0; i < home_->shard_set().size(); ++i) {
    LockRequest& r = RequestFor(static_cast<shard::ShardId>(i));
    r.keys.clear();  // The whole shard covers them.
    r.whole_shard = true;
    r.whole_exclusive = r.whole_exclusive || exclusive;
  }
}

std::vector<shard::ShardId> Transaction::shards() const {
  std::vector<shard::ShardId> out;
  for (const Part& p : parts_) out.push_back(p.shard);
  return out;
}

void Transaction::Acquire(AtGrant at_grant, absl::AnyInvocable<void()> then) {
  at_grant_ = std::move(at_grant);
  then_ = std::move(then);
  if (parts_.empty()) {
    then_();
    return;
  }
  Forward(0);
}

void Transaction::Forward(size_t i) {
  shard::Shard* target = &home_->shard_set().shard(parts_[i].shard);
  if (target == shard::Shard::Current()) {
    StepOn(i);
  } else {
    target->Post([this, i] { StepOn(i); });
  }
}

void Transaction::StepOn(size_t i) {
  LockRequest* r = parts_[i].request.get();
  if (r->whole_shard) {
    for (const LockRequest::Key& k : r->keys) r->whole_exclusive = r->whole_exclusive || k.exclusive;
    r->keys.clear();
  } else {
    r->Normalize();
  }
  r->on_grant = [this, i] { Granted(i, /*waited=*/true); };
  if (ThisShardLocks().Acquire(r)) Granted(i, /*waited=*/false);
}

void Transaction::Granted(size_t i, bool waited) {
  shard::Shard& here = *shard::Shard::Current();
  // This shard's earlier writes go to the AOF before anything the transaction logs.
  if (WriteLog::enabled()) LogAcks::PushThreadLog();
  if (at_grant_) at_grant_(here);
  if (i + 1 < parts_.size()) {
    Forward(i + 1);
  } else if (&here == home_ && !waited) {
    then_();
  } else {
    // A grant that waited runs inside another transaction's Release: start the work from a
    // fresh task rather than nesting it there.
    home_->Post([this] { then_(); });
  }
}

void ReleaseHere(shard::Shard& shard, LockRequest& request, bool touch) {
  WatchRegistry& watches = ThisShardWatches();
  if (touch && !watches.empty()) {
    for (const LockRequest::Key& k : request.keys) {
      if (k.exclusive) watches.Touch(k.db, k.key);
    }
  }
  ThisShardLocks().Release(&request);
  ThisShardBlocking().RetryHeld(shard);
}

void Transaction::Release(bool touch, absl::AnyInvocable<void()> done) {
  shard::ShardSet& set = home_->shard_set();
  // With `done`, count the shards still to answer; the counter lives on the home thread.
  struct Acks {
    size_t pending;
    absl::AnyInvocable<void()> done;
  };
  Acks* acks = done ? new Acks{1, std::move(done)} : nullptr;
  shard::Shard* home = home_;
  for (Part& p : parts_) {
    shard::Shard* target = &set.shard(p.shard);
    if (target == shard::Shard::Current()) {
      ReleaseHere(*target, *p.request, touch);
      continue;
    }
    if (acks != nullptr) acks->pending++;
    target->Post([target, home, touch, acks, r = std::move(p.request)] {
      ReleaseHere(*target, *r, touch);
      if (acks == nullptr) return;
      home->Post([acks] {
        if (--acks->pending == 0) {
          acks->done();
          delete acks;
        }
      });
    });
  }
  parts_.clear();
  if (acks != nullptr && --acks->pending == 0) {
    acks->done();
    delete acks;
  }
}

}  // namespace shoal::server
