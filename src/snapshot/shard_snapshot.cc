#include "snapshot/shard_snapshot.h"

#include <algorithm>

#include "common/clock.h"
#include "persist/rdb_encoder.h"
#include "persist/rdb_format.h"
#include "storage/access_stats.h"

namespace shoal::snapshot {
namespace {

// A chunk leaves for the file writer at this size: big enough to make the hand-over cheap, small
// enough that memory in flight stays small.
constexpr size_t kChunkBytes = 256 * 1024;
// The walk pauses while this much is waiting for the disk.
constexpr size_t kMaxQueuedBytes = 64 * 1024 * 1024;
// Time slices per loop iteration: background snapshots keep latency of other clients low.
constexpr int64_t kBackgroundSliceNs = 1'000'000;
constexpr int64_t kForegroundSliceNs = 20'000'000;

}  // namespace

ShardSnapshot::ShardSnapshot(shard::Shard& shard, persist::SnapshotFile* file, bool foreground,
                             bool compress, bool lru)
    : shard_(shard), file_(file), foreground_(foreground), compress_(compress), lru_(lru) {}

void ShardSnapshot::Begin(int64_t now_ms) {
  start_ms_ = now_ms;
  for (int i = 0; i < shard_.num_dbs(); ++i) {
    savers_.push_back(std::make_unique<DbSaver>(this, i));
    shard_.db(i).BeginSnapshot(savers_.back().get());
  }
  ScheduleStep();
}

void ShardSnapshot::ScheduleStep() {
  if (file_->queued_bytes() > kMaxQueuedBytes) {
    shard_.loop().RunOnceAfter(1, [this] { Step(); });
  } else {
    shard_.RunAfterEvents([this] { Step(); });
  }
}

void ShardSnapshot::Step() {
  if (finished_) return;
  const int64_t deadline = MonotonicNs() + (foreground_ ? kForegroundSliceNs : kBackgroundSliceNs);
  while (db_ < shard_.num_dbs()) {
    storage::Db& db = shard_.db(db_);
    int visited = 0;
    do {
      cursor_ = db.ScanAll(cursor_, [&](storage::Entry* e) {
        ++visited;
        if (!db.IsSaved(e)) {
          SaveEntry(db_, e);
          db.MarkSaved(e);
        }
      });
      if (chunk_.size() >= kChunkBytes) FlushChunk();
      if (visited >= 64) {
        visited = 0;
        if (MonotonicNs() >= deadline && cursor_ != 0) {
          FlushChunk();
          ScheduleStep();
          return;
        }
      }
    } while (cursor_ != 0);
    db.EndSnapshot();
    ++db_;
  }
  Finish();
}

void ShardSnapshot::SaveEntry(int db, storage::Entry* e) {
  int64_t when = e->value.has_expire() ? shard_.db(db).ExpireOf(e) : -1;
  // A key already expired when the snapshot began is not in the image (a loader would drop it).
  if (when != -1 && when <= start_ms_) return;
  if (chunk_db_ != db) {
    FlushChunk();
    persist::RdbEncoder enc(&chunk_);
    enc.Byte(persist::rdb_opcode::kSelectDb);
    enc.Length(static_cast<uint64_t>(db));
    chunk_db_ = db;
  }
  Result<uint8_t> type = persist::RdbEncoder::ObjectType(e->value);
  if (!type.ok()) return;  // No RDB form (cannot happen for the types Shoal has).
  persist::RdbEncoder enc(&chunk_, compress_);
  if (when != -1) {
    enc.Byte(persist::rdb_opcode::kExpireTimeMs);
    enc.Int64LE(when);
  }
  if (storage::AccessStats::LfuMode()) {
    enc.Byte(persist::rdb_opcode::kFreq);
    enc.Byte(storage::AccessStats::Frequency(e->access_time, start_ms_));
  } else if (lru_) {
    enc.Byte(persist::rdb_opcode::kIdle);
    enc.Length(static_cast<uint64_t>(
        std::max<int64_t>(0, storage::AccessStats::IdleSeconds(e->access_time, start_ms_))));
  }
  enc.Byte(*type);
  enc.String(e->key_view());
  (void)enc.ObjectPayload(e->value);
  keys_saved_.store(keys_saved_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void ShardSnapshot::FlushChunk() {
  if (chunk_.empty()) return;
  file_->Append(std::move(chunk_));
  chunk_.clear();
  chunk_db_ = -1;
}

void ShardSnapshot::Finish() {
  FlushChunk();
  finished_ = true;
  file_->ProducerDone();
}

void ShardSnapshot::Abandon() {
  for (int i = db_; i < shard_.num_dbs() && i < static_cast<int>(savers_.size()); ++i) {
    shard_.db(i).EndSnapshot();
  }
  finished_ = true;
}

}  // namespace shoal::snapshot
