#include "snapshot/rdb_load.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "common/logging.h"
#include "persist/crc64.h"
#include "persist/rdb_decoder.h"
#include "persist/rdb_format.h"
#include "storage/access_stats.h"

namespace shoal::snapshot {
namespace {

namespace rdb_opcode = persist::rdb_opcode;

// The file, mapped read-only: the page cache holds it, so loading needs no second copy in
// anonymous memory.
class MappedFile {
 public:
  ~MappedFile() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  Status Open(const std::string& path, bool* found) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *found = false;
      if (errno == ENOENT) return Status::Ok();
      return Status::Error("Can't open " + path + ": " + strerror(errno));
    }
    *found = true;
    struct stat st;
    if (fstat(fd, &st) != 0) {
      close(fd);
      return Status::Error("Can't stat " + path + ": " + strerror(errno));
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        close(fd);
        return Status::Error("Can't map " + path + ": " + strerror(errno));
      }
      madvise(p, size_, MADV_SEQUENTIAL);
      data_ = p;
    }
    close(fd);
    return Status::Ok();
  }
  std::string_view view() const {
    return std::string_view(static_cast<const char*>(data_), size_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

class Loader {
 public:
  Loader(std::string_view file, shard::ShardSet& shards, LoadStats* stats)
      : file_(file), shards_(shards), stats_(stats), now_ms_(UnixTimeMs()) {}

  Status Load() {
    if (file_.size() < 9 || file_.substr(0, 5) != "REDIS") {
      return Status::Error("Wrong signature trying to load DB from file");
    }
    int version = 0;
    for (char c : file_.substr(5, 4)) {
      if (c < '0' || c > '9') return Status::Error("Wrong signature trying to load DB from file");
      version = version * 10 + (c - '0');
    }
    if (version < 1 || version > persist::kRdbVersion) {
      return Status::Error("Can't handle RDB format version " + std::to_string(version));
    }
    persist::RdbDecoder dec(file_.substr(9));
    Status s = Records(dec);
    if (!s.ok()) {
      return Status::Error(s.message() + " (at byte " + std::to_string(9 + dec.offset()) + ")");
    }
    if (version >= 5) return Checksum(9 + dec.offset());
    return Status::Ok();
  }

 private:
  Status Records(persist::RdbDecoder& dec) {
    int db = 0;
    int64_t expire_ms = -1;
    int lfu_freq = -1;
    int64_t lru_idle = -1;
    for (;;) {
      uint8_t op;
      Status st = dec.Byte(&op);
      if (!st.ok()) return st;
      switch (op) {
        case rdb_opcode::kEof:
          return Status::Ok();
        case rdb_opcode::kExpireTimeMs: {
          if (Status t = dec.Int64LE(&expire_ms); !t.ok()) return t;
          continue;
        }
        case rdb_opcode::kExpireTime: {
          int32_t seconds;
          if (Status t = dec.Int32LE(&seconds); !t.ok()) return t;
          expire_ms = static_cast<int64_t>(seconds) * 1000;
          continue;
        }
        case rdb_opcode::kFreq: {
          uint8_t f;
          if (Status t = dec.Byte(&f); !t.ok()) return t;
          lfu_freq = f;
          continue;
        }
        case rdb_opcode::kIdle: {
          uint64_t idle;
          if (Status t = dec.Length(&idle); !t.ok()) return t;
          lru_idle = static_cast<int64_t>(idle);
          continue;
        }
        case rdb_opcode::kSelectDb: {
          uint64_t n;
          if (Status t = dec.Length(&n); !t.ok()) return t;
          if (n >= static_cast<uint64_t>(shards_.shard(0).num_dbs())) {
            return Status::Error("Data file was created with a server configured to handle more "
                                 "than " + std::to_string(shards_.shard(0).num_dbs()) +
                                 " databases");
          }
          db = static_cast<int>(n);
          continue;
        }
        case rdb_opcode::kResizeDb: {
          uint64_t a, b;
          if (Status t = dec.Length(&a); !t.ok()) return t;
          if (Status t = dec.Length(&b); !t.ok()) return t;
          continue;
        }
        case rdb_opcode::kAux: {
          std::string key, value;
          if (Status t = dec.String(&key); !t.ok()) return t;
          if (Status t = dec.String(&value); !t.ok()) return t;
          if (key == "redis-ver") SHOAL_LOG(kNotice, "Loading RDB produced by version %s", value);
          continue;
        }
        case rdb_opcode::kModuleAux:
          return Status::Error("The RDB file holds module data (aux) this server cannot read");
        case rdb_opcode::kFunction:
        case rdb_opcode::kFunction2:
          return Status::Error("The RDB file holds Redis functions, which this server lacks");
        default:
          break;
      }
      Status s = Key(dec, op, db, expire_ms, lfu_freq, lru_idle);
      if (!s.ok()) return s;
      expire_ms = -1;
      lfu_freq = -1;
      lru_idle = -1;
    }
  }

  Status Key(persist::RdbDecoder& dec, uint8_t type, int db, int64_t expire_ms, int lfu_freq,
             int64_t lru_idle) {
    std::string key_bytes;
    if (Status t = dec.String(&key_bytes); !t.ok()) return t;
    const std::string* key = &key_bytes;
    storage::Value value;
    Status s = dec.ReadObject(type, &value);
    if (!s.ok()) return Status::Error(s.message() + " reading key '" + Printable(*key) + "'");
    if (expire_ms != -1 && expire_ms < now_ms_) {
      ++stats_->expired;
      return Status::Ok();
    }
    storage::Db& d = shards_.shard(shards_.OwnerOf(*key)).db(db);
    if (d.Find(*key, now_ms_, storage::kLookupNoTouch) != nullptr) {
      return Status::Error("Duplicate key '" + Printable(*key) + "' in the RDB file");
    }
    storage::Entry* e = d.Insert(*key, std::move(value));
    if (expire_ms != -1) d.SetExpire(e, expire_ms);
    if (lru_idle >= 0 && !storage::AccessStats::LfuMode()) {
      e->access_time = storage::AccessStats::Initial(now_ms_ - lru_idle * 1000);
    } else if (lfu_freq >= 0 && storage::AccessStats::LfuMode()) {
      e->access_time = (storage::AccessStats::Initial(now_ms_) & ~0xFFu) |
                       static_cast<uint32_t>(lfu_freq);
    }
    ++stats_->loaded;
    return Status::Ok();
  }

  Status Checksum(size_t at) {
    if (file_.size() < at + 8) return Status::Error("Short read: the RDB checksum is missing");
    uint64_t stored = 0;
    for (int i = 0; i < 8; ++i) {
      stored |= static_cast<uint64_t>(static_cast<uint8_t>(file_[at + i])) << (8 * i);
    }
    if (stored == 0) return Status::Ok();  // Written with rdbchecksum no.
    uint64_t computed = persist::Crc64(0, file_.data(), at);
    if (computed != stored) {
      char buf[128];
      snprintf(buf, sizeof(buf), "Wrong RDB checksum expected: (%llx) got: (%llx)",
               static_cast<unsigned long long>(stored), static_cast<unsigned long long>(computed));
      return Status::Error(buf);
    }
    return Status::Ok();
  }

  static std::string Printable(const std::string& s) {
    std::string out;
    for (char c : s.substr(0, 64)) {
      out += (c >= 32 && c < 127) ? c : '?';
    }
    return out;
  }

  std::string_view file_;
  shard::ShardSet& shards_;
  LoadStats* stats_;
  int64_t now_ms_;
};

}  // namespace

Status LoadRdbFile(const std::string& path, shard::ShardSet& shards, LoadStats* stats) {
  MappedFile file;
  Status s = file.Open(path, &stats->found);
  if (!s.ok() || !stats->found) return s;
  Loader loader(file.view(), shards, stats);
  return loader.Load();
}

}  // namespace shoal::snapshot
