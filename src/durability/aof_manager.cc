#include "durability/aof_manager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>

#include "aof/aof_reader.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/strings.h"
#include "durability/aof_replay.h"
#include "persist/snapshot_file.h"
#include "server/log_acks.h"
#include "server/server_state.h"
#include "server/write_log.h"
#include "shard/shard.h"
#include "snapshot/rdb_load.h"
#include "snapshot/snapshotter.h"
#include "storage/db.h"

namespace shoal::durability {
namespace {

using server::ServerState;

std::string Param(const char* name) { return ServerState::Get().config.GetString(name); }

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error("Can't open the append-only file " + path + ": " + strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first bytes of a file (fewer if it is shorter): enough to tell an RDB base from commands
// without reading a multi-GB base twice (LoadRdbFile maps it).
std::string FileHead(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// The sink the shards push to (server/log_acks.h): the open writer.
std::atomic<aof::AofWriter*>* g_writer = nullptr;
uint64_t SinkPush(std::string&& bytes) { return g_writer->load()->Append(std::move(bytes)); }
uint64_t SinkLastTicket() { return g_writer->load()->last_ticket(); }
uint64_t SinkAcknowledged() { return g_writer->load()->acknowledged(); }

aof::FsyncPolicy PolicyParam() {
  aof::FsyncPolicy p = aof::FsyncPolicy::kEverySec;
  aof::ParseFsyncPolicy(Param("appendfsync"), &p);
  return p;
}

}  // namespace

AofManager& AofManager::Get() {
  static AofManager* m = new AofManager();
  return *m;
}

std::string AofManager::DirPath() const { return Param("dir") + "/" + Param("appenddirname"); }
std::string AofManager::FileName() const { return Param("appendfilename"); }

Status AofManager::LoadBase(shard::ShardSet& shards, int64_t* keys_loaded) {
  *keys_loaded = 0;
  // No key expires until the incr files are replayed (aof_replay.h); ReplayIncrs resumes expiry.
  storage::Db::PauseExpiry(true);
  const std::string dir = DirPath();
  const std::string manifest_name = aof::AofManifestFileName(FileName());
  if (access((dir + "/" + manifest_name).c_str(), F_OK) != 0) return Status::Ok();
  Result<aof::AofManifest> manifest = aof::LoadManifest(dir, manifest_name);
  if (!manifest.ok()) return manifest.status();
  manifest_ = std::move(*manifest);
  const bool load_truncated = Param("aof-load-truncated") == "yes";
  std::vector<aof::AofFileInfo> files = manifest_.FilesToLoad();
  for (size_t i = 0; i < files.size(); ++i) {
    const aof::AofFileInfo& f = files[i];
    const std::string path = dir + "/" + f.name;
    const bool last = i + 1 == files.size();
    if (f.type == aof::AofFileType::kBase) {
      base_size_ = FileSize(path);
      if (aof::StartsWithRdbPreamble(FileHead(path, 9))) {
        snapshot::LoadStats stats;
        // Expired keys stay: the incr files may still act on them (see aof_replay.h).
        Status s = snapshot::LoadRdbFile(path, shards, &stats, /*keep_expired=*/true);
        if (!s.ok()) return Status::Error(path + ": " + s.message());
        *keys_loaded += stats.loaded;
        continue;
      }
      Result<std::string> commands = ReadWholeFile(path);  // A base written as commands.
      if (!commands.ok()) return commands.status();
      pending_data_.append(*commands);
      continue;
    }
    Result<std::string> data = ReadWholeFile(path);
    if (!data.ok()) return data.status();
    Result<aof::AofReadResult> r = aof::ReadAofCommands(
        *data, load_truncated && last,
        [](const std::vector<std::string_view>&) { return Status::Ok(); });
    if (!r.ok()) return Status::Error(path + ": " + r.status().message());
    size_t valid = r->valid_bytes;
    if (r->kind == aof::AofReadResult::Kind::kTruncated) {
      SHOAL_LOG(kWarning, "!!! Warning: short read while loading the AOF file %s!!!", path);
      if (r->reverted_multi) {
        SHOAL_LOG(kWarning, "Revert incomplete MULTI/EXEC transaction in AOF file %s", path);
      }
      if (truncate(path.c_str(), static_cast<off_t>(valid)) != 0) {
        return Status::Error("Error truncating the AOF file " + path + ": " + strerror(errno));
      }
      SHOAL_LOG(kWarning, "AOF %s loaded anyway because aof-load-truncated is enabled", path);
    }
    pending_data_.append(*data, 0, valid);
  }
  return Status::Ok();
}

Status AofManager::ReplayIncrs(shard::ShardSet& shards) {
  if (pending_data_.empty()) {
    storage::Db::PauseExpiry(false);
    return Status::Ok();
  }
  std::vector<std::vector<std::string_view>> commands;
  Result<aof::AofReadResult> r = aof::ReadAofCommands(
      pending_data_, /*load_truncated=*/false, [&](const std::vector<std::string_view>& argv) {
        commands.push_back(argv);
        return Status::Ok();
      });
  if (!r.ok()) return r.status();
  storage::Db::PauseExpiry(true);
  ReplayStats stats;
  Status s = ReplayCommands(shards, commands, &stats);
  storage::Db::PauseExpiry(false);
  SHOAL_LOG(kNotice, "AOF replayed: %lld commands (%lld answered an error)",
            static_cast<long long>(stats.commands), static_cast<long long>(stats.errors));
  std::string().swap(pending_data_);
  return s;
}

Status AofManager::WriteEmptyBase(const std::string& name) {
  // A snapshot with no producers is a valid empty RDB: header, EOF, checksum.
  std::promise<Status> done;
  persist::SnapshotFileOptions o;
  o.dir = DirPath();
  o.filename = name;
  o.redis_version = Param("redis-version");
  o.producers = 0;
  Result<std::unique_ptr<persist::SnapshotFile>> f = persist::SnapshotFile::Create(
      o, [&done](const persist::SnapshotResult& r) { done.set_value(r.status); });
  if (!f.ok()) return f.status();
  Status s = done.get_future().get();
  std::unique_ptr<persist::SnapshotFile> file = std::move(*f);
  file.reset();  // Joins the writer thread.
  return s;
}

Status AofManager::OpenWriter(const std::string& path) {
  Result<std::unique_ptr<aof::AofWriter>> w = aof::AofWriter::Open(
      path, PolicyParam(),
      [](uint64_t acknowledged) { server::LogAcks::NotifyShards(acknowledged); });
  if (!w.ok()) return w.status();
  writer_ = std::move(*w);
  writer_ptr_.store(writer_.get(), std::memory_order_release);
  g_writer = &writer_ptr_;
  server::LogAcks::SetSink({&SinkPush, &SinkLastTicket, &SinkAcknowledged});
  shard::Shard::SetTurnHook(&server::LogAcks::EndOfTurn);
  return Status::Ok();
}

Status AofManager::StartLogging(shard::ShardSet& shards) {
  std::lock_guard<std::mutex> l(mu_);
  if (writer_ != nullptr) return Status::Ok();
  const std::string dir = DirPath();
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Error("Can't create the append-only file directory " + dir + ": " +
                         strerror(errno));
  }
  const std::string name = FileName();
  if (!manifest_.base && manifest_.incrs.empty()) {
    std::string base = manifest_.StartNewBase(name, /*rdb_preamble=*/true);
    Status s = WriteEmptyBase(base);
    if (!s.ok()) return s;
    base_size_ = FileSize(dir + "/" + base);
  }
  if (manifest_.incrs.empty()) manifest_.AddNewIncr(name);
  Status s = aof::WriteManifest(dir, aof::AofManifestFileName(name), manifest_);
  if (!s.ok()) return s;
  s = OpenWriter(dir + "/" + manifest_.incrs.back().name);
  if (!s.ok()) return s;
  server::WriteLog::set_enabled(true);
  (void)shards;
  return Status::Ok();
}

Status AofManager::StopLogging() {
  server::WriteLog::set_enabled(false);
  server::LogAcks::StopNotifying();
  std::lock_guard<std::mutex> l(mu_);
  if (writer_ == nullptr) return Status::Ok();
  return writer_->Close();
}

void AofManager::SetFsyncPolicy(std::string_view policy) {
  aof::FsyncPolicy p;
  if (!aof::ParseFsyncPolicy(policy, &p)) return;
  std::lock_guard<std::mutex> l(mu_);
  if (writer_ != nullptr) writer_->SetPolicy(p);
}

Status AofManager::StartBaseSnapshot(shard::Shard& home, aof::AofManifest after,
                                     const std::string& base, std::function<void()> at_cut,
                                     std::function<void(const Status&)> done) {
  rewriting_ = true;
  rewrite_scheduled_ = false;
  rewrite_start_ms_ = UnixTimeMs();
  snapshot::SnapshotTarget target;
  target.dir = DirPath();
  target.filename = base;
  target.exclusive = true;
  target.is_rdb_save = false;
  target.on_all_begun = std::move(at_cut);
  Status started = snapshot::Snapshotter::Get().Start(
      home, snapshot::SaveKind::kBackground,
      [this, after = std::move(after), done](const Status& st) {
        {
          std::lock_guard<std::mutex> l(mu_);
          RewriteDone(st, after);
        }
        if (done) done(st);
      },
      /*queue_if_running=*/false, std::move(target));
  if (!started.ok()) rewriting_ = false;
  return started;
}

Status AofManager::Rewrite(shard::Shard& home, std::function<void(const Status&)> done) {
  std::lock_guard<std::mutex> l(mu_);
  if (rewriting_) {
    return Status::Error("ERR Background append only file rewriting already in progress");
  }
  if (snapshot::Snapshotter::Get().in_progress()) {
    rewrite_scheduled_ = true;
    return Status::Error("SCHEDULED");
  }
  const std::string dir = DirPath();
  const std::string name = FileName();
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Error(std::string("ERR Can't create the AOF directory: ") + strerror(errno));
  }
  if (writer_ == nullptr || !server::WriteLog::enabled()) {
    // Nothing is being logged: the rewrite is a snapshot into a new base, the incr files go.
    aof::AofManifest after = manifest_;
    const std::string base = after.StartNewBase(name, /*rdb_preamble=*/true);
    after.MarkRewrittenIncrsAsHistory(/*keep_last=*/false);
    Status s = StartBaseSnapshot(home, std::move(after), base, nullptr, std::move(done));
    if (s.ok()) SHOAL_LOG(kNotice, "Background append only file rewriting started");
    return s;
  }
  // While the rewrite runs, the manifest names the old files and the new incr, so a crash at any
  // moment loads everything acknowledged.
  aof::AofManifest during = manifest_;
  const std::string incr = during.AddNewIncr(name);
  aof::AofManifest after = during;
  const std::string base = after.StartNewBase(name, /*rdb_preamble=*/true);
  after.MarkRewrittenIncrsAsHistory(/*keep_last=*/true);
  int fd = open((dir + "/" + incr).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
  Status s = aof::WriteManifest(dir, aof::AofManifestFileName(name), during);
  if (!s.ok()) return s;
  manifest_ = during;
  aof::AofWriter* writer = writer_.get();
  std::string incr_path = dir + "/" + incr;
  s = StartBaseSnapshot(
      home, std::move(after), base,
      [writer, incr_path] {
        // Every shard is held and has pushed its log: the cut. Later records go to the new incr.
        Result<uint64_t> t = writer->SwitchFile(incr_path);
        if (!t.ok()) SHOAL_LOG(kWarning, "AOF rewrite: can't switch files: %s", t.status().message());
      },
      std::move(done));
  if (s.ok()) SHOAL_LOG(kNotice, "Background append only file rewriting started");
  return s;
}

Status AofManager::EnableAtRuntime(shard::Shard& home) {
  std::lock_guard<std::mutex> l(mu_);
  if (server::WriteLog::enabled()) return Status::Ok();
  if (rewriting_ || snapshot::Snapshotter::Get().in_progress()) {
    return Status::Error("ERR Background save or rewrite in progress: try again when it is done");
  }
  const std::string dir = DirPath();
  const std::string name = FileName();
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::Error(std::string("ERR Can't create the AOF directory: ") + strerror(errno));
  }
  aof::AofManifest after = manifest_;
  const std::string incr = after.AddNewIncr(name);
  const std::string base = after.StartNewBase(name, /*rdb_preamble=*/true);
  after.MarkRewrittenIncrsAsHistory(/*keep_last=*/true);
  const std::string incr_path = dir + "/" + incr;
  bool fresh_writer = writer_ == nullptr;
  if (fresh_writer) {
    Status s = OpenWriter(incr_path);  // Empty until logging starts at the cut.
    if (!s.ok()) return s;
  }
  aof::AofWriter* writer = writer_.get();
  Status s = StartBaseSnapshot(
      home, std::move(after), base,
      [writer, incr_path, fresh_writer] {
        if (!fresh_writer) {
          Result<uint64_t> t = writer->SwitchFile(incr_path);
          if (!t.ok()) SHOAL_LOG(kWarning, "AOF: can't switch files: %s", t.status().message());
        }
        server::WriteLog::set_enabled(true);  // Every shard is held: nothing is half logged.
      },
      nullptr);
  return s;
}

void AofManager::DisableAtRuntime() { server::WriteLog::set_enabled(false); }

// mu_ held.
void AofManager::RewriteDone(const Status& status, aof::AofManifest after) {
  rewriting_ = false;
  last_rewrite_sec_ = (UnixTimeMs() - rewrite_start_ms_) / 1000;
  if (!status.ok()) {
    last_rewrite_ok_ = false;
    ++rewrite_failures_;
    SHOAL_LOG(kWarning, "Background AOF rewrite failed: %s", status.message());
    return;
  }
  const std::string dir = DirPath();
  // The old files leave the manifest first; deleted once it no longer names them (unless
  // aof-disable-auto-gc keeps them, named as history).
  std::vector<aof::AofFileInfo> history;
  if (Param("aof-disable-auto-gc") != "yes") history = after.TakeHistory();
  Status s = aof::WriteManifest(dir, aof::AofManifestFileName(FileName()), after);
  if (!s.ok()) {
    last_rewrite_ok_ = false;
    ++rewrite_failures_;
    SHOAL_LOG(kWarning, "Background AOF rewrite: can't write the manifest: %s", s.message());
    return;
  }
  for (const aof::AofFileInfo& old : history) unlink((dir + "/" + old.name).c_str());
  manifest_ = std::move(after);
  base_size_ = FileSize(dir + "/" + manifest_.base->name);
  last_rewrite_ok_ = true;
  rewrite_failures_ = 0;
  ++rewrites_;
  SHOAL_LOG(kNotice, "Background AOF rewrite finished successfully");
}

void AofManager::Cron(shard::Shard& shard) {
  bool due = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (writer_ != nullptr) {
      // Writes are refused while the file cannot be written (MISCONF), as in Redis.
      Status w = writer_->last_write_status();
      bool failing = !w.ok() && server::WriteLog::enabled();
      ServerState& state = ServerState::Get();
      if (failing != state.aof_write_failed.load(std::memory_order_relaxed)) {
        state.SetAofWriteError(failing ? w.message() : "");
      }
    }
    if (writer_ == nullptr || !server::WriteLog::enabled() || rewriting_ ||
        snapshot::Snapshotter::Get().in_progress()) {
      return;
    }
    due = rewrite_scheduled_;
    if (!due) {
      const server::Config& config = ServerState::Get().config;
      int64_t pct = config.auto_aof_rewrite_percentage.load(std::memory_order_relaxed);
      int64_t min = config.auto_aof_rewrite_min_size.load(std::memory_order_relaxed);
      uint64_t current = base_size_ + writer_->file_bytes();
      if (pct > 0 && current >= static_cast<uint64_t>(min)) {
        uint64_t base = base_size_ > 0 ? base_size_ : 1;
        due = (current * 100 / base) >= static_cast<uint64_t>(100 + pct);
        if (due) {
          SHOAL_LOG(kNotice, "Starting automatic rewriting of AOF on %llu%% growth",
                    static_cast<unsigned long long>(current * 100 / base - 100));
        }
      }
    }
  }
  if (due) (void)Rewrite(shard, nullptr);
}

AofInfo AofManager::Info() const {
  std::lock_guard<std::mutex> l(mu_);
  AofInfo info;
  info.enabled = writer_ != nullptr && server::WriteLog::enabled();
  info.rewrite_in_progress = rewriting_;
  info.rewrite_scheduled = rewrite_scheduled_;
  info.last_rewrite_sec = last_rewrite_sec_;
  info.current_rewrite_sec = rewriting_ ? (UnixTimeMs() - rewrite_start_ms_) / 1000 : -1;
  info.last_rewrite_ok = last_rewrite_ok_;
  info.rewrites = rewrites_;
  info.rewrite_failures = rewrite_failures_;
  info.base_size = base_size_;
  if (writer_ != nullptr) {
    info.last_write_ok = writer_->last_write_status().ok();
    info.current_size = base_size_ + writer_->file_bytes();
    info.buffer_length = writer_->queued_bytes();
    info.delayed_fsync = writer_->delayed_fsyncs();
  }
  return info;
}

std::string AofManager::WriteError() const {
  std::lock_guard<std::mutex> l(mu_);
  if (writer_ == nullptr) return "";
  Status s = writer_->last_write_status();
  return s.ok() ? "" : s.message();
}

}  // namespace shoal::durability
