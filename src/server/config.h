// Config: the server's parameters, as set by command-line flags, a redis.conf-style file, and
// CONFIG SET at run time.
//
// Thread: parameters are read on every shard thread. Numeric ones live in atomics and may be read
// anywhere without a lock; string ones are copied out under a mutex (they are read rarely: by
// CONFIG GET, INFO and start-up). The keyspace never sits behind this lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shoal::server {

class Config {
 public:
  Config();
  ~Config();

  // Numeric parameters read on hot paths.
  std::atomic<int64_t> port{6379};
  std::atomic<int64_t> threads{0};  // 0: one per core, resolved at start-up.
  std::atomic<int64_t> databases{16};
  std::atomic<int64_t> maxclients{10000};
  std::atomic<int64_t> timeout{0};
  std::atomic<int64_t> tcp_keepalive{300};
  std::atomic<int64_t> hz{10};
  std::atomic<int64_t> lfu_log_factor{10};
  std::atomic<int64_t> lfu_decay_time{1};
  std::atomic<int64_t> maxmemory{0};
  std::atomic<int64_t> proto_max_bulk_len{512LL * 1024 * 1024};
  std::atomic<int64_t> client_query_buffer_limit{1024LL * 1024 * 1024};
  // Scripts running longer than this (ms) make the server answer BUSY (0: never). Alias:
  // lua-time-limit.
  std::atomic<int64_t> busy_reply_threshold{5000};
  std::atomic<int64_t> auto_aof_rewrite_percentage{100};
  std::atomic<int64_t> auto_aof_rewrite_min_size{64LL * 1024 * 1024};
  // The HTTP/JSON front end (src/http): its port (0: off), limits and timeouts (seconds).
  std::atomic<int64_t> http_port{8080};
  std::atomic<int64_t> http_max_body_bytes{1024 * 1024};
  std::atomic<int64_t> http_max_header_bytes{64 * 1024};
  std::atomic<int64_t> http_timeout{10};
  std::atomic<int64_t> http_keepalive_timeout{60};

  // Sets `name` (case-insensitive) to `value`, validating it. `at_startup` allows parameters that
  // cannot change at run time (port, databases...).
  Status Set(std::string_view name, std::string_view value, bool at_startup);
  // Checks that Set would accept it, without changing anything (CONFIG SET of several
  // parameters applies all of them or none).
  Status Validate(std::string_view name, std::string_view value, bool at_startup) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  // The current value of every parameter whose name matches `pattern` (glob), sorted by name.
  std::vector<std::pair<std::string, std::string>> Get(std::string_view pattern) const;
  // A string parameter's value ("" if unknown).
  std::string GetString(std::string_view name) const;

  // Reads redis.conf syntax: "name value..." per line, '#' comments, quoted values.
  Status LoadFile(const std::string& path);

  // Names of every parameter (for --help).
  std::vector<std::string> Names() const;

 private:
  struct Param;
  const Param* Find(std::string_view name) const;
  std::string Format(const Param& p) const;

  std::vector<Param> params_;
  mutable std::mutex strings_mu_;
  std::map<std::string, std::string, std::less<>> strings_;  // Guarded by strings_mu_.
};

}  // namespace shoal::server
