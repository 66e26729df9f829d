#include "aof/aof_writer.h"

#include <absl/strings/str_format.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace shoal::aof {
namespace {

using namespace std::chrono_literals;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class AofWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / "aof_writer_XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Polls `cond` for up to 10 s.
  template <typename F>
  static bool Eventually(F cond) {
    for (int i = 0; i < 1000; ++i) {
      if (cond()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return cond();
  }

  std::string dir_;
};

// Records every on_progress call (they come from the writer thread only).
struct ProgressLog {
  std::vector<uint64_t> acks;
  std::function<void(uint64_t)> Fn() {
    return [this](uint64_t ack) { acks.push_back(ack); };
  }
};

void ExpectStrictlyIncreasing(const std::vector<uint64_t>& v) {
  for (size_t i = 1; i < v.size(); ++i) ASSERT_LT(v[i - 1], v[i]) << "at " << i;
}

TEST(FsyncPolicyTest, ParsesAndPrints) {
  FsyncPolicy p;
  ASSERT_TRUE(ParseFsyncPolicy("EverySec", &p));
  EXPECT_EQ(p, FsyncPolicy::kEverySec);
  ASSERT_TRUE(ParseFsyncPolicy("always", &p));
  EXPECT_EQ(FsyncPolicyName(p), "always");
  ASSERT_TRUE(ParseFsyncPolicy("no", &p));
  EXPECT_EQ(FsyncPolicyName(p), "no");
  EXPECT_FALSE(ParseFsyncPolicy("sometimes", &p));
}

// Many producers at once: the file holds every append exactly once, in ticket order.
void RunConcurrentAppends(const std::string& path, FsyncPolicy policy, int threads,
                          int per_thread) {
  ProgressLog progress;
  Result<std::unique_ptr<AofWriter>> w = AofWriter::Open(path, policy, progress.Fn());
  ASSERT_TRUE(w.ok()) << w.status().message();
  AofWriter& writer = **w;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> sent(threads);
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string record = absl::StrFormat("t%d:%d", t, i);
        uint64_t ticket = writer.Append(record + "\n");
        sent[t].emplace_back(ticket, record);
      }
    });
  }
  for (std::thread& p : producers) p.join();
  const uint64_t total = static_cast<uint64_t>(threads) * per_thread;
  ASSERT_TRUE(writer.Close().ok());

  std::vector<std::string> by_ticket(total + 1);
  for (const auto& list : sent) {
    uint64_t last = 0;
    for (const auto& [ticket, record] : list) {
      ASSERT_GT(ticket, last);  // A thread's appends get increasing tickets.
      ASSERT_LE(ticket, total);
      ASSERT_TRUE(by_ticket[ticket].empty()) << "ticket " << ticket << " given twice";
      by_ticket[ticket] = record;
      last = ticket;
    }
  }
  std::vector<std::string> lines = Lines(Slurp(path));
  ASSERT_EQ(lines.size(), total);
  for (uint64_t t = 1; t <= total; ++t) ASSERT_EQ(lines[t - 1], by_ticket[t]) << "ticket " << t;
  EXPECT_EQ(writer.acknowledged(), total);
  EXPECT_EQ(writer.written(), total);
  EXPECT_EQ(writer.synced(), total);  // Close fsyncs.
  EXPECT_EQ(writer.queued_bytes(), 0u);
  ASSERT_FALSE(progress.acks.empty());
  ExpectStrictlyIncreasing(progress.acks);
  EXPECT_EQ(progress.acks.back(), total);
}

TEST_F(AofWriterTest, ConcurrentAppendsLandInTicketOrderEverySec) {
  RunConcurrentAppends(Path("a.aof"), FsyncPolicy::kEverySec, 8, 5000);
}

TEST_F(AofWriterTest, ConcurrentAppendsLandInTicketOrderNo) {
  RunConcurrentAppends(Path("a.aof"), FsyncPolicy::kNo, 4, 5000);
}

TEST_F(AofWriterTest, ConcurrentAppendsLandInTicketOrderAlways) {
  RunConcurrentAppends(Path("a.aof"), FsyncPolicy::kAlways, 4, 500);
}

// Under always a ticket is acknowledged only once fsynced: at every on_progress call, synced()
// already covers it. Group commit: fewer batches than appends when producers race.
TEST_F(AofWriterTest, AlwaysAcknowledgesOnlySyncedTickets) {
  std::atomic<bool> violated{false};
  std::atomic<int> calls{0};
  AofWriter* raw = nullptr;
  std::atomic<bool> ready{false};
  Result<std::unique_ptr<AofWriter>> w =
      AofWriter::Open(Path("a.aof"), FsyncPolicy::kAlways, [&](uint64_t ack) {
        calls.fetch_add(1);
        while (!ready.load()) std::this_thread::yield();
        if (raw->synced() < ack || raw->written() < ack) violated = true;
      });
  ASSERT_TRUE(w.ok());
  raw = w->get();
  ready = true;
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) raw->Append("x\n");
    });
  }
  for (std::thread& p : producers) p.join();
  EXPECT_TRUE(Eventually([&] { return raw->acknowledged() == 1200; }));
  EXPECT_FALSE(violated.load());
  EXPECT_LE(calls.load(), 1200);
  ASSERT_TRUE(raw->Close().ok());
}

// everysec acknowledges on write and fsyncs in the background within about a second.
TEST_F(AofWriterTest, EverySecSyncsInTheBackground) {
  Result<std::unique_ptr<AofWriter>> w = AofWriter::Open(Path("a.aof"), FsyncPolicy::kEverySec, {});
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  uint64_t t = 0;
  for (int i = 0; i < 100; ++i) t = writer.Append("SET\n");
  EXPECT_TRUE(Eventually([&] { return writer.acknowledged() == t; }));
  EXPECT_TRUE(Eventually([&] { return writer.synced() == t; }));
  EXPECT_TRUE(writer.last_fsync_status().ok());
  EXPECT_EQ(writer.file_bytes(), 400u);
}

// Policy no, then always: what was written becomes durable without any further append.
TEST_F(AofWriterTest, SwitchingToAlwaysSyncsWhatWasWritten) {
  Result<std::unique_ptr<AofWriter>> w = AofWriter::Open(Path("a.aof"), FsyncPolicy::kNo, {});
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  uint64_t t = 0;
  for (int i = 0; i < 10; ++i) t = writer.Append("x");
  ASSERT_TRUE(Eventually([&] { return writer.acknowledged() == t; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(writer.synced(), 0u);  // Policy no never syncs on its own.
  writer.SetPolicy(FsyncPolicy::kAlways);
  EXPECT_EQ(writer.policy(), FsyncPolicy::kAlways);
  EXPECT_TRUE(Eventually([&] { return writer.synced() == t; }));
}

// Empty appends are tickets too (markers for the caller): acknowledged like any other.
TEST_F(AofWriterTest, EmptyAppendsAreAcknowledged) {
  Result<std::unique_ptr<AofWriter>> w = AofWriter::Open(Path("a.aof"), FsyncPolicy::kAlways, {});
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  EXPECT_EQ(writer.Append(""), 1u);
  EXPECT_TRUE(Eventually([&] { return writer.acknowledged() == 1; }));
  writer.Append("x");
  EXPECT_EQ(writer.Append(""), 3u);
  EXPECT_TRUE(Eventually([&] { return writer.acknowledged() == 3; }));
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(Slurp(Path("a.aof")), "x");
}

// Appends resume where they were: an existing file is appended to, not replaced.
TEST_F(AofWriterTest, OpenAppendsToAnExistingFile) {
  {
    std::ofstream out(Path("a.aof"), std::ios::binary);
    out << "old\n";
  }
  Result<std::unique_ptr<AofWriter>> w = AofWriter::Open(Path("a.aof"), FsyncPolicy::kNo, {});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->file_bytes(), 4u);
  (*w)->Append("new\n");
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(Slurp(Path("a.aof")), "old\nnew\n");
  EXPECT_FALSE(AofWriter::Open(Path("no/such/dir.aof"), FsyncPolicy::kNo, {}).ok());
}

// SwitchFile while producers race: tickets below the marker are in the old file, tickets above
// it in the new one, none lost or doubled.
TEST_F(AofWriterTest, SwitchFileBoundaryIsExact) {
  Result<std::unique_ptr<AofWriter>> w = AofWriter::Open(Path("1.aof"), FsyncPolicy::kEverySec, {});
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  std::atomic<bool> go{false};
  std::vector<std::vector<uint64_t>> tickets(4);
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 3000; ++i) {
        // The record is its own ticket: known only after Append returns, so write the thread
        // and index, and map them to tickets afterwards.
        tickets[t].push_back(writer.Append(absl::StrFormat("%d:%d\n", t, i)));
      }
    });
  }
  go = true;
  std::this_thread::sleep_for(2ms);
  Result<uint64_t> boundary = writer.SwitchFile(Path("2.aof"));
  ASSERT_TRUE(boundary.ok());
  for (std::thread& p : producers) p.join();
  ASSERT_TRUE(writer.Close().ok());

  const uint64_t total = 4 * 3000 + 1;
  std::vector<std::string> by_ticket(total + 1);
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 3000; ++i) {
      by_ticket[tickets[t][i]] = absl::StrFormat("%d:%d", t, i);
    }
  }
  EXPECT_TRUE(by_ticket[*boundary].empty());
  std::vector<std::string> old_lines = Lines(Slurp(Path("1.aof")));
  std::vector<std::string> new_lines = Lines(Slurp(Path("2.aof")));
  ASSERT_EQ(old_lines.size(), *boundary - 1);
  ASSERT_EQ(new_lines.size(), total - *boundary);
  for (uint64_t t = 1; t < *boundary; ++t) ASSERT_EQ(old_lines[t - 1], by_ticket[t]);
  for (uint64_t t = *boundary + 1; t <= total; ++t) {
    ASSERT_EQ(new_lines[t - *boundary - 1], by_ticket[t]);
  }
  EXPECT_FALSE(writer.SwitchFile(Path("no/such/dir.aof")).ok());
}

// A sick disk: write(2) goes to /dev/full (ENOSPC) or is cut short while `mode` says so.
struct SickDisk {
  enum Mode { kHealthy, kFull, kShortThenFull, kFailOnce };
  std::atomic<int> mode{kHealthy};
  std::atomic<int> failures{0};
  int full_fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ~SickDisk() { ::close(full_fd); }

  AofWriter::Hooks Hooks() {
    AofWriter::Hooks hooks;
    hooks.retry_interval = 20ms;
    hooks.write = [this](int fd, const char* data, size_t len) -> ssize_t {
      switch (mode.load()) {
        case kFull:
          failures.fetch_add(1);
          return ::write(full_fd, data, len);
        case kFailOnce:
          mode = kHealthy;
          failures.fetch_add(1);
          return ::write(full_fd, data, len);
        case kShortThenFull:
          mode = kFull;  // The next call (the rest of this batch) fails outright.
          return ::write(fd, data, len / 2);
        default:
          return ::write(fd, data, len);
      }
    };
    return hooks;
  }
};

TEST_F(AofWriterTest, FullDiskStallsAcknowledgementsThenRecovers) {
  SickDisk disk;
  ASSERT_GE(disk.full_fd, 0);
  ProgressLog progress;
  Result<std::unique_ptr<AofWriter>> w =
      AofWriter::Open(Path("a.aof"), FsyncPolicy::kEverySec, progress.Fn(), disk.Hooks());
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  ASSERT_EQ(writer.Append("one\n"), 1u);
  ASSERT_TRUE(Eventually([&] { return writer.acknowledged() == 1; }));

  disk.mode = SickDisk::kFull;
  writer.Append("two\n");
  ASSERT_TRUE(Eventually([&] { return !writer.last_write_status().ok(); }));
  EXPECT_EQ(writer.last_write_status().message(),
            "Error writing to the AOF file: No space left on device");
  writer.Append("three\n");
  ASSERT_TRUE(Eventually([&] { return disk.failures.load() >= 3; }));  // It keeps retrying.
  EXPECT_EQ(writer.acknowledged(), 1u);
  EXPECT_EQ(writer.written(), 1u);
  EXPECT_EQ(writer.queued_bytes(), 10u);
  EXPECT_EQ(Slurp(Path("a.aof")), "one\n");

  disk.mode = SickDisk::kHealthy;
  ASSERT_TRUE(Eventually([&] { return writer.acknowledged() == 3; }));
  EXPECT_TRUE(writer.last_write_status().ok());
  EXPECT_EQ(writer.queued_bytes(), 0u);
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(Slurp(Path("a.aof")), "one\ntwo\nthree\n");
  ExpectStrictlyIncreasing(progress.acks);
}

// A short write is cut back (ftruncate) so the file never holds half a record, and the retry
// writes the record whole, once.
TEST_F(AofWriterTest, ShortWriteIsTruncatedAndRetriedWhole) {
  SickDisk disk;
  Result<std::unique_ptr<AofWriter>> w =
      AofWriter::Open(Path("a.aof"), FsyncPolicy::kNo, {}, disk.Hooks());
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  writer.Append("first record\n");
  ASSERT_TRUE(Eventually([&] { return writer.acknowledged() == 1; }));

  disk.mode = SickDisk::kShortThenFull;
  writer.Append("second record\n");
  ASSERT_TRUE(Eventually([&] { return !writer.last_write_status().ok(); }));
  EXPECT_EQ(writer.last_write_status().message(),
            "Short write while writing to the AOF file: (nwritten=7, expected=14): No space left "
            "on device");
  EXPECT_EQ(Slurp(Path("a.aof")), "first record\n");  // The half record was cut off.
  EXPECT_EQ(writer.acknowledged(), 1u);

  disk.mode = SickDisk::kHealthy;
  ASSERT_TRUE(Eventually([&] { return writer.acknowledged() == 2; }));
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(Slurp(Path("a.aof")), "first record\nsecond record\n");
}

// Close while the disk is full: one last try, then the error is returned, and nothing after the
// lost bytes is written (acknowledging it would claim the lost tickets too).
TEST_F(AofWriterTest, CloseGivesUpOnAWriteThatStillFails) {
  SickDisk disk;
  AofWriter::Hooks hooks = disk.Hooks();
  hooks.retry_interval = std::chrono::hours(1);  // Only the first try and Close's.
  Result<std::unique_ptr<AofWriter>> w =
      AofWriter::Open(Path("a.aof"), FsyncPolicy::kEverySec, {}, hooks);
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  disk.mode = SickDisk::kFull;
  writer.Append("lost\n");
  ASSERT_TRUE(Eventually([&] { return disk.failures.load() == 1; }));
  Result<uint64_t> boundary = writer.SwitchFile(Path("b.aof"));
  ASSERT_TRUE(boundary.ok());
  writer.Append("later\n");
  disk.mode = SickDisk::kFailOnce;  // Close's try fails; the disk would take "later".
  Status st = writer.Close();
  EXPECT_EQ(st.message(), "Error writing to the AOF file: No space left on device");
  EXPECT_EQ(disk.failures.load(), 2);
  EXPECT_EQ(writer.acknowledged(), 0u);
  EXPECT_EQ(writer.queued_bytes(), 0u);
  EXPECT_EQ(Slurp(Path("a.aof")), "");
  EXPECT_EQ(Slurp(Path("b.aof")), "");
}

// everysec: while a background fsync runs, writes wait (a write would block behind it anyway),
// but for 2 s at most; then they go ahead and the delay is counted (INFO aof_delayed_fsync).
TEST_F(AofWriterTest, EverySecHoldsWritesBackForARunningFsyncUpTo2s) {
  std::atomic<bool> in_fsync{false};
  std::atomic<int> fsyncs{0};
  AofWriter::Hooks hooks;
  hooks.fsync = [&](int fd) {
    if (fsyncs.fetch_add(1) == 0) {  // The first one takes 3 s.
      in_fsync = true;
      std::this_thread::sleep_for(3s);
      in_fsync = false;
    }
    return ::fdatasync(fd);
  };
  Result<std::unique_ptr<AofWriter>> w =
      AofWriter::Open(Path("a.aof"), FsyncPolicy::kEverySec, {}, hooks);
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  writer.Append("a\n");
  ASSERT_TRUE(Eventually([&] { return in_fsync.load(); }));  // About a second after the write.
  const auto start = std::chrono::steady_clock::now();
  writer.Append("b\n");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(writer.acknowledged(), 1u);  // Held back...
  ASSERT_TRUE(Eventually([&] { return writer.acknowledged() == 2; }));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(in_fsync.load());  // ...but not until the fsync ended.
  EXPECT_GE(waited, 1900ms);
  EXPECT_EQ(writer.delayed_fsyncs(), 1u);
  ASSERT_TRUE(writer.Close().ok());
  EXPECT_EQ(Slurp(Path("a.aof")), "a\nb\n");
}

// everysec: a failing background fsync is reported (Redis refuses writes meanwhile) and clears
// once an fsync succeeds.
TEST_F(AofWriterTest, EverySecFsyncErrorIsReportedUntilOneSucceeds) {
  std::atomic<bool> failing{true};
  AofWriter::Hooks hooks;
  hooks.fsync = [&](int fd) {
    if (failing.load()) {
      errno = EIO;
      return -1;
    }
    return ::fdatasync(fd);
  };
  Result<std::unique_ptr<AofWriter>> w =
      AofWriter::Open(Path("a.aof"), FsyncPolicy::kEverySec, {}, hooks);
  ASSERT_TRUE(w.ok());
  AofWriter& writer = **w;
  writer.Append("a\n");
  ASSERT_TRUE(Eventually([&] { return !writer.last_fsync_status().ok(); }));
  EXPECT_EQ(writer.last_fsync_status().message(), "Error syncing the AOF file: Input/output error");
  EXPECT_EQ(writer.synced(), 0u);
  EXPECT_EQ(writer.acknowledged(), 1u);  // everysec acknowledges written bytes.
  failing = false;
  writer.Append("b\n");
  ASSERT_TRUE(Eventually([&] { return writer.synced() == 2; }));
  EXPECT_TRUE(writer.last_fsync_status().ok());
}

// always: an fsync error ends the process, as in Redis.
TEST_F(AofWriterTest, AlwaysExitsOnFsyncError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string path = Path("a.aof");
  EXPECT_EXIT(
      {
        AofWriter::Hooks hooks;
        hooks.fsync = [](int) {
          errno = EIO;
          return -1;
        };
        auto w = AofWriter::Open(path, FsyncPolicy::kAlways, {}, hooks);
        (*w)->Append("a\n");
        std::this_thread::sleep_for(5s);
      },
      ::testing::ExitedWithCode(1), "Can't persist AOF for fsync error");
}

}  // namespace
}  // namespace shoal::aof
