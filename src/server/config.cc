#include "server/config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <fstream>

#include "common/glob.h"
#include "common/logging.h"
#include "common/strings.h"
#include "protocol/resp_parser.h"
#include "storage/access_stats.h"
#include "storage/encoding_limits.h"

namespace shoal::server {

// How a parameter is typed, validated and stored.
struct Config::Param {
  enum class Kind { kInt, kMemory, kBool, kString, kEnum };
  std::string name;
  Kind kind;
  enum class Mode { kMutable, kImmutable, kProtected } mode;
  std::atomic<int64_t>* number = nullptr;  // For kInt and kMemory.
  int64_t min = 0, max = INT64_MAX;
  std::vector<std::string> choices;  // For kEnum, in Redis's order (its error lists them so).
  // For kInt: values outside [clamp_min, clamp_max] are stored clamped (Redis does so for hz).
  int64_t clamp_min = INT64_MIN, clamp_max = INT64_MAX;
};

namespace {

// Parses "1gb", "512mb", "100k", "1024" as Redis's memtoull does.
std::optional<int64_t> ParseMemory(std::string_view s) {
  std::string lower = AsciiToLower(s);
  int64_t mul = 1;
  auto ends = [&](std::string_view suf) {
    return lower.size() > suf.size() && lower.compare(lower.size() - suf.size(), suf.size(), suf) == 0;
  };
  size_t cut = 0;
  if (ends("gb")) { mul = 1024LL * 1024 * 1024; cut = 2; }
  else if (ends("mb")) { mul = 1024LL * 1024; cut = 2; }
  else if (ends("kb")) { mul = 1024; cut = 2; }
  else if (ends("g")) { mul = 1000LL * 1000 * 1000; cut = 1; }
  else if (ends("m")) { mul = 1000LL * 1000; cut = 1; }
  else if (ends("k")) { mul = 1000; cut = 1; }
  else if (ends("b")) { cut = 1; }
  std::optional<int64_t> v = ParseInt64(std::string_view(lower).substr(0, lower.size() - cut));
  if (!v || *v < 0 || *v > INT64_MAX / mul) return std::nullopt;
  return *v * mul;
}

std::string CurrentDir() {
  char buf[4096];
  if (getcwd(buf, sizeof(buf)) == nullptr) return ".";
  return buf;
}

}  // namespace

Config::~Config() = default;

Config::Config() {
  using K = Param::Kind;
  using M = Param::Mode;
  auto num = [&](std::string name, std::atomic<int64_t>* v, int64_t min, int64_t max, M mode,
                 K kind = K::kInt) {
    Param p{std::move(name), kind, mode, v, min, max, {}};
    params_.push_back(std::move(p));
  };
  auto str = [&](std::string name, std::string def, M mode, K kind = K::kString,
                 std::vector<std::string> choices = {}) {
    Param p{name, kind, mode, nullptr, 0, 0, std::move(choices)};
    params_.push_back(std::move(p));
    strings_[name] = std::move(def);
  };
  num("port", &port, 0, 65535, M::kImmutable);
  num("threads", &threads, 0, 1024, M::kImmutable);
  num("databases", &databases, 1, INT_MAX, M::kImmutable);
  num("maxclients", &maxclients, 1, UINT32_MAX, M::kMutable);
  num("timeout", &timeout, 0, INT_MAX, M::kMutable);
  num("tcp-keepalive", &tcp_keepalive, 0, INT_MAX, M::kMutable);
  num("hz", &hz, 0, INT_MAX, M::kMutable);
  params_.back().clamp_min = 1;
  params_.back().clamp_max = 500;
  num("lfu-log-factor", &lfu_log_factor, 0, INT_MAX, M::kMutable);
  num("lfu-decay-time", &lfu_decay_time, 0, INT_MAX, M::kMutable);
  num("maxmemory", &maxmemory, 0, INT64_MAX, M::kMutable, K::kMemory);
  num("auto-aof-rewrite-percentage", &auto_aof_rewrite_percentage, 0, INT_MAX, M::kMutable);
  num("auto-aof-rewrite-min-size", &auto_aof_rewrite_min_size, 0, INT64_MAX, M::kMutable,
      K::kMemory);
  num("proto-max-bulk-len", &proto_max_bulk_len, 1024 * 1024, INT64_MAX, M::kMutable, K::kMemory);
  num("client-query-buffer-limit", &client_query_buffer_limit, 1024 * 1024, INT64_MAX,
      M::kMutable, K::kMemory);
  num("busy-reply-threshold", &busy_reply_threshold, 0, INT64_MAX, M::kMutable);
  num("lua-time-limit", &busy_reply_threshold, 0, INT64_MAX, M::kMutable);
  // Encoding thresholds live in storage (collections read them); each has Redis 7's old
  // "ziplist" name as an alias, which CONFIG GET lists too.
  storage::EncodingLimits& lim = storage::Limits();
  auto limit = [&](std::string name, std::string alias, std::atomic<int64_t>* v, int64_t min,
                   int64_t max, K kind = K::kInt) {
    num(std::move(name), v, min, max, M::kMutable, kind);
    if (!alias.empty()) num(std::move(alias), v, min, max, M::kMutable, kind);
  };
  limit("list-max-listpack-size", "list-max-ziplist-size", &lim.list_max_listpack_size, INT_MIN,
        INT_MAX);
  limit("list-compress-depth", "", &lim.list_compress_depth, 0, INT_MAX);
  limit("hash-max-listpack-entries", "hash-max-ziplist-entries", &lim.hash_max_listpack_entries,
        0, INT64_MAX);
  limit("hash-max-listpack-value", "hash-max-ziplist-value", &lim.hash_max_listpack_value, 0,
        INT64_MAX);
  limit("set-max-intset-entries", "", &lim.set_max_intset_entries, 0, INT64_MAX);
  limit("zset-max-listpack-entries", "zset-max-ziplist-entries", &lim.zset_max_listpack_entries,
        0, INT64_MAX);
  limit("zset-max-listpack-value", "zset-max-ziplist-value", &lim.zset_max_listpack_value, 0,
        INT64_MAX);
  limit("hll-sparse-max-bytes", "", &lim.hll_sparse_max_bytes, 0, INT64_MAX, K::kMemory);
  str("bind", "127.0.0.1", M::kImmutable);
  str("loglevel", "notice", M::kMutable, K::kEnum, {"debug", "verbose", "notice", "warning"});
  str("logfile", "", M::kImmutable);
  str("maxmemory-policy", "noeviction", M::kMutable, K::kEnum,
      {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
       "allkeys-lfu", "allkeys-random", "noeviction"});
  // Snapshot points "seconds changes ...", Redis's default (src/snapshot/save_points.h).
  str("save", "3600 1 300 100 60 10000", M::kMutable);
  str("stop-writes-on-bgsave-error", "yes", M::kMutable, K::kBool);
  str("rdbcompression", "yes", M::kMutable, K::kBool);
  str("rdbchecksum", "yes", M::kMutable, K::kBool);
  // The append-only file (src/durability/aof_manager.h).
  str("appendonly", "no", M::kMutable, K::kBool);
  str("appenddirname", "appendonlydir", M::kImmutable);
  str("appendfilename", "appendonly.aof", M::kImmutable);
  str("aof-load-truncated", "yes", M::kMutable, K::kBool);
  str("aof-use-rdb-preamble", "yes", M::kMutable, K::kBool);
  // yes: a rewrite keeps the old files (as history in the manifest) instead of deleting them.
  str("aof-disable-auto-gc", "no", M::kMutable, K::kBool);
  // Accepted for redis.conf compatibility; Shoal's rewrite writes its base through the snapshot
  // writer, which fsyncs once at the end, and runs on the shard threads (no CPU list to pin).
  str("aof-rewrite-incremental-fsync", "yes", M::kMutable, K::kBool);
  str("aof_rewrite_cpulist", "", M::kImmutable);
  // Timestamp annotations in the AOF are not written: only "no" is accepted.
  str("aof-timestamp-enabled", "no", M::kMutable, K::kBool);
  str("appendfsync", "everysec", M::kMutable, K::kEnum, {"everysec", "always", "no"});
  str("dir", CurrentDir(), M::kProtected);
  str("dbfilename", "dump.rdb", M::kProtected);
  str("requirepass", "", M::kMutable);
  // Command latency histograms are always kept (one increment per call); these two only shape
  // what INFO latencystats shows, as in Redis.
  str("latency-tracking", "yes", M::kMutable, K::kBool);
  str("latency-tracking-info-percentiles", "50 99 99.9", M::kMutable);
  str("daemonize", "no", M::kImmutable, K::kBool);
  str("protected-mode", "no", M::kMutable, K::kBool);
  // "local" (only from loopback clients, in Redis) is taken as "yes": Shoal binds to loopback by
  // default and has no per-client check for it.
  str("enable-protected-configs", "no", M::kImmutable, K::kEnum, {"no", "yes", "local"});
  str("redis-version", "7.0.15", M::kMutable);
  // HTTP/JSON front end (src/http). http-bind empty: the same addresses as bind.
  num("http-port", &http_port, 0, 65535, M::kImmutable);
  str("http-bind", "", M::kImmutable);
  num("http-max-body-bytes", &http_max_body_bytes, 0, INT_MAX, M::kMutable, K::kMemory);
  num("http-max-header-bytes", &http_max_header_bytes, 1024, INT_MAX, M::kMutable, K::kMemory);
  num("http-timeout", &http_timeout, 1, INT_MAX, M::kMutable);
  num("http-keepalive-timeout", &http_keepalive_timeout, 1, INT_MAX, M::kMutable);
  str("http-cors-origins", "", M::kMutable);
  str("http-cors-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS", M::kMutable);
  str("http-cors-headers", "Content-Type, Authorization", M::kMutable);
  std::sort(params_.begin(), params_.end(),
            [](const Param& a, const Param& b) { return a.name < b.name; });
}

const Config::Param* Config::Find(std::string_view name) const {
  std::string lower = AsciiToLower(name);
  for (const Param& p : params_) {
    if (p.name == lower) return &p;
  }
  return nullptr;
}

std::string Config::Format(const Param& p) const {
  if (p.number != nullptr) return Int64ToString(p.number->load(std::memory_order_relaxed));
  std::lock_guard<std::mutex> lock(strings_mu_);
  auto it = strings_.find(p.name);
  return it == strings_.end() ? "" : it->second;
}

Status Config::Validate(std::string_view name, std::string_view value, bool at_startup) const {
  const Param* p = Find(name);
  if (p == nullptr) {
    return Status::Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                         CStr(name) + "'");
  }
  auto invalid = [&](std::string_view why) {
    return Status::Error("ERR CONFIG SET failed (possibly related to argument '" +
                         CStr(name) + "') - " + std::string(why));
  };
  if (!at_startup && p->mode == Param::Mode::kImmutable) {
    return invalid("can't set immutable config");
  }
  if (!at_startup && p->mode == Param::Mode::kProtected &&
      GetString("enable-protected-configs") != "yes") {
    return invalid("can't set protected config");
  }
  auto range_error = [&] {
    return invalid("argument must be between " + Int64ToString(p->min) + " and " +
                   Int64ToString(p->max) + " inclusive");
  };
  std::string lower = AsciiToLower(value);
  switch (p->kind) {
    case Param::Kind::kInt: {
      std::optional<int64_t> v = ParseInt64(value);
      if (!v) return invalid("argument couldn't be parsed into an integer");
      if (*v < p->min || *v > p->max) return range_error();
      return Status::Ok();
    }
    case Param::Kind::kMemory: {
      std::optional<int64_t> v = ParseMemory(value);
      if (!v) return invalid("argument must be a memory value");
      if (*v < p->min || *v > p->max) return range_error();
      return Status::Ok();
    }
    case Param::Kind::kBool:
      if (lower != "yes" && lower != "no") return invalid("argument must be 'yes' or 'no'");
      if (p->name == "aof-timestamp-enabled" && lower == "yes") {
        return invalid("AOF timestamp annotations are not supported");
      }
      return Status::Ok();
    case Param::Kind::kEnum: {
      if (std::find(p->choices.begin(), p->choices.end(), lower) == p->choices.end()) {
        std::string all;
        for (const auto& c : p->choices) all += (all.empty() ? "" : ", ") + c;
        return invalid("argument(s) must be one of the following: " + all);
      }
      return Status::Ok();
    }
    case Param::Kind::kString:
      if (p->name == "dbfilename" || p->name == "appendfilename" || p->name == "appenddirname") {
        if (value.find('/') != std::string_view::npos) {
          return invalid(p->name + " can't be a path, just a filename");
        }
      }
      if (p->name == "dir") {
        // Redis chdir()s there; Shoal only needs it to be a directory it can enter.
        std::string path(value);
        struct stat st;
        if (stat(path.c_str(), &st) != 0) return invalid(strerror(errno));
        if (!S_ISDIR(st.st_mode)) return invalid(strerror(ENOTDIR));
      }
      if (p->name == "save" && !value.empty()) {
        // "seconds changes" pairs split on single spaces, as Redis: seconds >= 1, changes >= 0.
        std::vector<std::string_view> parts;
        for (size_t start = 0;;) {
          size_t sp = value.find(' ', start);
          parts.push_back(value.substr(start, sp == std::string_view::npos ? sp : sp - start));
          if (sp == std::string_view::npos) break;
          start = sp + 1;
        }
        if (parts.size() % 2 != 0) return invalid("Invalid save parameters");
        for (size_t i = 0; i < parts.size(); ++i) {
          std::optional<int64_t> v = parts[i].empty() ? std::optional<int64_t>(0)
                                                      : ParseInt64(parts[i]);
          if (!v || *v < (i % 2 == 0 ? 1 : 0)) return invalid("Invalid save parameters");
        }
      }
      if (p->name == "latency-tracking-info-percentiles") {
        std::vector<std::string> parts;
        protocol::SplitInlineArgs(value, &parts);
        for (const std::string& part : parts) {
          std::optional<double> v = ParseDouble(part);
          if (!v) return invalid("Invalid latency-tracking-info-percentiles parameters");
          if (*v < 0 || *v > 100) {
            return invalid(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
          }
        }
      }
      return Status::Ok();
  }
  return Status::Ok();
}

Status Config::Set(std::string_view name, std::string_view value, bool at_startup) {
  Status valid = Validate(name, value, at_startup);
  if (!valid.ok()) return valid;
  const Param* p = Find(name);
  std::string lower = AsciiToLower(value);
  switch (p->kind) {
    case Param::Kind::kInt: {
      int64_t v = *ParseInt64(value);
      v = std::clamp(v, p->clamp_min, p->clamp_max);
      p->number->store(v);
      if (p->name == "lfu-log-factor" || p->name == "lfu-decay-time") {
        storage::AccessStats::SetLfuParams(static_cast<int>(lfu_log_factor.load()),
                                           static_cast<int>(lfu_decay_time.load()));
      }
      return Status::Ok();
    }
    case Param::Kind::kMemory:
      p->number->store(*ParseMemory(value));
      return Status::Ok();
    case Param::Kind::kBool:
    case Param::Kind::kEnum: {
      if (p->name == "maxmemory-policy") {
        storage::AccessStats::SetLfuMode(lower.find("lfu") != std::string::npos);
      }
      if (p->name == "loglevel") {
        LogLevel level;
        ParseLogLevel(lower, &level);
        SetLogLevel(level);
      }
      std::lock_guard<std::mutex> lock(strings_mu_);
      strings_[p->name] = lower;
      return Status::Ok();
    }
    case Param::Kind::kString: {
      std::lock_guard<std::mutex> lock(strings_mu_);
      strings_[p->name] = std::string(value);
      return Status::Ok();
    }
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> Config::Get(std::string_view pattern) const {
  std::vector<std::pair<std::string, std::string>> out;
  if (pattern.find_first_of("[*?") == std::string_view::npos) {
    // A plain name is answered under the spelling it was asked with, as Redis 7 does.
    if (const Param* p = Find(pattern)) out.emplace_back(std::string(pattern), Format(*p));
    return out;
  }
  for (const Param& p : params_) {
    if (GlobMatch(pattern, p.name, /*nocase=*/true)) out.emplace_back(p.name, Format(p));
  }
  return out;
}

std::string Config::GetString(std::string_view name) const {
  const Param* p = Find(name);
  return p == nullptr ? "" : Format(*p);
}

std::vector<std::string> Config::Names() const {
  std::vector<std::string> names;
  for (const Param& p : params_) names.push_back(p.name);
  return names;
}

Status Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot open config file '" + path + "'");
  std::string line;
  int lineno = 0;
  bool saw_save = false;
  std::string save_points;
  while (std::getline(in, line)) {
    ++lineno;
    std::vector<std::string> args;
    if (!protocol::SplitInlineArgs(line, &args)) {
      return Status::Error(path + ":" + std::to_string(lineno) + ": unbalanced quotes");
    }
    if (args.empty() || args[0][0] == '#') continue;
    std::string value;
    for (size_t i = 1; i < args.size(); ++i) value += (i > 1 ? " " : "") + args[i];
    if (Find(args[0]) == nullptr) {
      // A real redis.conf carries many directives we do not implement; skipping them (loudly)
      // lets users start from the file they already have.
      SHOAL_LOG(kWarning, "%s:%d: ignoring unsupported directive '%s'", path, lineno, args[0]);
      continue;
    }
    if (EqualsIgnoreCase(args[0], "save")) {
      // As in redis.conf: each "save" line adds a point; the first replaces the default list,
      // and `save ""` clears it.
      if (!saw_save || value.empty()) save_points.clear();
      saw_save = true;
      if (!value.empty()) save_points += (save_points.empty() ? "" : " ") + value;
      value = save_points;
    }
    Status s = Set(args[0], value, /*at_startup=*/true);
    if (!s.ok()) {
      return Status::Error(path + ":" + std::to_string(lineno) + ": '" + args[0] + "': " +
                           s.message());
    }
  }
  return Status::Ok();
}

}  // namespace shoal::server
