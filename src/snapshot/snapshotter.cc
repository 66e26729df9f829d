#include "snapshot/snapshotter.h"

#include <future>

#include "common/clock.h"
#include "common/logging.h"
#include "common/memory.h"
#include "server/server_state.h"
#include "server/transaction.h"
#include "shard/shard_set.h"
#include "snapshot/save_points.h"

namespace shoal::snapshot {

using server::ServerState;

struct Snapshotter::Run {
  shard::Shard* home = nullptr;
  SaveKind kind = SaveKind::kBackground;
  std::vector<std::pair<shard::Shard*, Done>> callers;
  std::unique_ptr<persist::SnapshotFile> file;
  std::vector<std::unique_ptr<ShardSnapshot>> shares;  // By shard id.
  std::unique_ptr<server::Transaction> tx;
  int64_t start_ms = 0;
  int64_t changes_at_start = 0;
  bool is_rdb_save = true;
};

Snapshotter& Snapshotter::Get() {
  static Snapshotter* s = new Snapshotter();
  return *s;
}

void Snapshotter::ForgetChanges() {
  std::lock_guard<std::mutex> l(mu_);
  changes_at_last_save_ = TotalChanges();
}

void Snapshotter::RecordLoad(int64_t loaded, int64_t expired, int64_t now_unix) {
  std::lock_guard<std::mutex> l(mu_);
  load_loaded_ = loaded;
  load_expired_ = expired;
  last_save_unix_ = now_unix;
}

Status Snapshotter::Start(shard::Shard& home, SaveKind kind, Done done, bool queue_if_running,
                          SnapshotTarget target) {
  for (;;) {
    bool expected = false;
    if (running_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) break;
    if (!queue_if_running) return Status::Error("ERR Background save already in progress");
    std::lock_guard<std::mutex> l(mu_);
    if (running_.load(std::memory_order_acquire)) {
      waiting_.emplace_back(&home, std::move(done));
      if (kind == SaveKind::kForeground) waiting_kind_ = kind;
      return Status::Ok();
    }
    // The running one finished meanwhile: try again.
  }
  scheduled_.store(false, std::memory_order_relaxed);

  ServerState& state = ServerState::Get();
  shard::ShardSet& shards = home.shard_set();
  auto* run = new Run;
  run->home = &home;
  run->kind = kind;
  run->callers.emplace_back(&home, std::move(done));
  run->start_ms = UnixTimeMs();
  run->changes_at_start = state.changes.Total();
  run->is_rdb_save = target.is_rdb_save;

  persist::SnapshotFileOptions options;
  options.dir = target.dir.empty() ? state.config.GetString("dir") : target.dir;
  options.filename = target.filename.empty() ? state.config.GetString("dbfilename") : target.filename;
  options.redis_version = state.config.GetString("redis-version");
  options.producers = static_cast<int>(shards.size());
  options.used_memory = static_cast<int64_t>(UsedMemory());
  Result<std::unique_ptr<persist::SnapshotFile>> file = persist::SnapshotFile::Create(
      options, [this, run](const persist::SnapshotResult& r) { Finished(run, r); });
  if (!file.ok()) {
    SHOAL_LOG(kWarning, "%s", file.status().message());
    {
      std::lock_guard<std::mutex> l(mu_);
      last_ok_ = false;
      last_try_unix_ = run->start_ms / 1000;
      state.last_bgsave_failed.store(true, std::memory_order_relaxed);
    }
    delete run;
    running_.store(false, std::memory_order_release);
    return file.status();
  }
  run->file = std::move(*file);
  const bool compress = state.config.GetString("rdbcompression") == "yes";
  const bool lru = state.config.GetString("maxmemory-policy").find("lru") != std::string::npos;
  for (size_t i = 0; i < shards.size(); ++i) {
    run->shares.push_back(std::make_unique<ShardSnapshot>(
        shards.shard(i), run->file.get(), kind == SaveKind::kForeground, compress, lru));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    current_ = run;
  }
  if (target.is_rdb_save) {
    SHOAL_LOG(kNotice, "%s saving started",
              kind == SaveKind::kBackground ? "Background" : "Foreground");
  }
  // Shared locks on every shard, taken in order; each share begins when its shard is granted.
  run->tx = std::make_unique<server::Transaction>(&home);
  run->tx->AddAllShards(target.exclusive);
  int64_t start_ms = run->start_ms;
  run->tx->Acquire([run, start_ms](shard::Shard& s) { run->shares[s.id()]->Begin(start_ms); },
                   [run, begun = std::move(target.on_all_begun)] {
                     if (begun) begun();
                     run->tx->Release();
                   });
  return Status::Ok();
}

int64_t Snapshotter::TotalChanges() const { return ServerState::Get().changes.Total(); }

// The writer thread, once the file is complete (or failed).
void Snapshotter::Finished(Run* run, const persist::SnapshotResult& result) {
  if (abandoning_.load(std::memory_order_acquire)) return;  // Main cleans up after the stop.
  run->home->Post([this, run, result] {
    run->file.reset();  // Joins the writer thread, which is returning.
    ServerState& state = ServerState::Get();
    int64_t now = UnixTimeMs();
    std::vector<std::pair<shard::Shard*, Done>> callers = std::move(run->callers);
    std::vector<std::pair<shard::Shard*, Done>> waiting;
    SaveKind waiting_kind;
    {
      std::lock_guard<std::mutex> l(mu_);
      // A failed SAVE is the caller's error only; a failed background save is remembered (and,
      // with stop-writes-on-bgsave-error, refuses writes), as in Redis.
      if (run->is_rdb_save && (result.status.ok() || run->kind == SaveKind::kBackground)) {
        last_try_unix_ = now / 1000;
        last_ok_ = result.status.ok();
        last_duration_sec_ = (now - run->start_ms) / 1000;
        if (last_ok_) {
          ++saves_;
          last_save_unix_ = now / 1000;
          changes_at_last_save_ = run->changes_at_start;
          state.lastsave_unix.store(now / 1000);
        }
        state.last_bgsave_failed.store(!last_ok_, std::memory_order_relaxed);
      }
      current_ = nullptr;
      waiting = std::move(waiting_);
      waiting_.clear();
      waiting_kind = waiting_kind_;
      waiting_kind_ = SaveKind::kBackground;
      running_.store(false, std::memory_order_release);
    }
    const bool rdb_save = run->is_rdb_save;
    delete run;
    if (rdb_save && result.status.ok()) {
      SHOAL_LOG(kNotice, "DB saved on disk (%llu bytes)",
                static_cast<unsigned long long>(result.bytes));
    } else if (rdb_save) {
      SHOAL_LOG(kWarning, "Saving failed: %s", result.status.message());
    }
    for (auto& [shard, done] : callers) {
      if (!done) continue;
      if (shard == shard::Shard::Current()) {
        done(result.status);
      } else {
        shard->Post([done = std::move(done), status = result.status] { done(status); });
      }
    }
    if (!waiting.empty()) {
      // Callers that arrived during that snapshot need an image from after their request.
      shard::Shard* home = waiting.front().first;
      auto fan = std::make_shared<std::vector<std::pair<shard::Shard*, Done>>>(std::move(waiting));
      Status s = Start(*home, waiting_kind, [fan](const Status& st) {
        for (auto& [sh, d] : *fan) {
          if (sh == shard::Shard::Current()) {
            d(st);
          } else {
            sh->Post([d = std::move(d), st] { d(st); });
          }
        }
      });
      if (!s.ok()) {
        for (auto& [sh, d] : *fan) sh->Post([d = std::move(d), s] { d(s); });
      }
    }
  });
}

SnapshotInfo Snapshotter::Info() const {
  SnapshotInfo info;
  std::lock_guard<std::mutex> l(mu_);
  info.in_progress = current_ != nullptr;
  if (current_ != nullptr) {
    info.current_start_unix = current_->start_ms / 1000;
    for (const auto& share : current_->shares) info.keys_processed += share->keys_saved();
  }
  info.last_save_unix = last_save_unix_;
  info.last_ok = last_ok_;
  info.last_duration_sec = last_duration_sec_;
  info.saves = saves_;
  info.changes_since_last_save = TotalChanges() - changes_at_last_save_;
  info.last_load_keys_loaded = load_loaded_;
  info.last_load_keys_expired = load_expired_;
  return info;
}

void Snapshotter::Cron(shard::Shard& shard) {
  if (in_progress()) return;
  ServerState& state = ServerState::Get();
  bool due = scheduled_.load(std::memory_order_relaxed);
  if (!due) {
    std::vector<SavePoint> points;
    if (!ParseSavePoints(state.config.GetString("save"), &points) || points.empty()) return;
    int64_t now = UnixTimeMs() / 1000;
    int64_t changes, last_save, last_try;
    bool last_ok;
    {
      std::lock_guard<std::mutex> l(mu_);
      changes = TotalChanges() - changes_at_last_save_;
      last_save = last_save_unix_;
      last_try = last_try_unix_;
      last_ok = last_ok_;
    }
    // After a failure, retry no sooner than every 5 seconds (Redis's CONFIG_BGSAVE_RETRY_DELAY).
    due = SavePointReached(points, changes, now - last_save) && (last_ok || now - last_try >= 5);
    if (due) {
      SHOAL_LOG(kNotice, "%lld changes in %lld seconds. Saving...",
                static_cast<long long>(changes), static_cast<long long>(now - last_save));
    }
  }
  if (due) (void)Start(shard, SaveKind::kBackground, nullptr);
}

Status Snapshotter::SaveForShutdown(shard::ShardSet& shards) {
  std::promise<Status> promise;
  std::future<Status> result = promise.get_future();
  shards.shard(0).Post([this, &shards, &promise] {
    Status s = Start(shards.shard(0), SaveKind::kForeground,
                     [&promise](const Status& st) { promise.set_value(st); },
                     /*queue_if_running=*/true);
    if (!s.ok()) promise.set_value(s);
  });
  return result.get();
}

void Snapshotter::AbandonAfterStop(shard::ShardSet&) {
  Run* run;
  {
    std::lock_guard<std::mutex> l(mu_);
    run = current_;
    current_ = nullptr;
  }
  if (run == nullptr) return;
  abandoning_.store(true, std::memory_order_release);
  for (auto& share : run->shares) {
    if (!share->finished()) share->Abandon();
  }
  run->file->Abort();
  run->file.reset();
  delete run;
}

}  // namespace shoal::snapshot
