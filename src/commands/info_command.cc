// INFO [section ...]: Redis's sections and field names, gathered from every shard by message
// (each shard thread owns its own counters and keyspace).
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/latency_histogram.h"
#include "common/strings.h"
#include "common/memory.h"
#include "commands/helpers.h"
#include "script/lua_engine.h"
#include "script/registry.h"
#include "commands/register.h"
#include "snapshot/snapshotter.h"
#include "protocol/resp_parser.h"
#include "server/thread_state.h"
#include "storage/json_memory.h"

namespace shoal::cmd {
namespace {

// What one shard reports.
struct ShardReport {
  std::vector<std::pair<size_t, size_t>> dbs;  // (keys, expires) per database.
  std::vector<std::pair<const server::CommandSpec*, server::CommandStat>> commands;
  std::vector<std::pair<std::string, uint64_t>> errors;
  uint64_t expired_keys = 0, hits = 0, misses = 0;
  uint64_t commands_processed = 0, connections = 0, rejected = 0, in_bytes = 0, out_bytes = 0;
  uint64_t error_replies = 0;
  size_t clients = 0;
};

ShardReport Collect(shard::Shard& s) {
  ShardReport r;
  for (int i = 0; i < s.num_dbs(); ++i) {
    storage::Db& db = s.db(i);
    r.dbs.emplace_back(db.size(), db.expires_size());
    r.expired_keys += db.stats().expired_keys;
    r.hits += db.stats().keyspace_hits;
    r.misses += db.stats().keyspace_misses;
  }
  server::ThreadState& ts = server::ThreadState::Get();
  r.commands.assign(ts.command_stats.begin(), ts.command_stats.end());
  r.errors.assign(ts.error_stats.begin(), ts.error_stats.end());
  r.commands_processed = ts.total_commands;
  r.connections = ts.total_connections;
  r.rejected = ts.rejected_connections;
  r.in_bytes = ts.net_input_bytes;
  r.out_bytes = ts.net_output_bytes;
  r.error_replies = ts.error_replies;
  r.clients = ts.clients.size();
  return r;
}

std::string Human(uint64_t bytes) {
  const char* units[] = {"B", "K", "M", "G", "T", "P"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return absl::StrFormat("%dB", bytes);
  return absl::StrFormat("%.2f%s", v, units[u]);
}

class InfoWriter {
 public:
  void Section(const char* name) {
    if (!text_.empty()) text_ += "\r\n";
    text_ += std::string("# ") + name + "\r\n";
  }
  template <typename T>
  void Field(std::string_view name, const T& value) {
    text_.append(name);
    text_ += ':';
    if constexpr (std::is_arithmetic_v<T>) {
      text_ += std::to_string(value);
    } else {
      text_ += value;
    }
    text_ += "\r\n";
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

void WriteServer(InfoWriter& w, CommandContext& c) {
  server::ServerState& st = c.server();
  utsname u;
  uname(&u);
  int64_t now_us = UnixTimeUs();
  int64_t uptime = (now_us - st.start_time_us) / 1000000;
  w.Section("Server");
  w.Field("redis_version", st.config.GetString("redis-version"));
  w.Field("redis_git_sha1", "00000000");
  w.Field("redis_git_dirty", 0);
  w.Field("redis_build_id", "0");
  w.Field("redis_mode", "standalone");
  w.Field("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  w.Field("arch_bits", 64);
  w.Field("monotonic_clock", "POSIX clock_gettime");
  w.Field("multiplexing_api", "epoll");
  w.Field("atomicvar_api", "c11-builtin");
  w.Field("gcc_version", absl::StrFormat("%d.%d.%d", __GNUC__, __GNUC_MINOR__,
                                         __GNUC_PATCHLEVEL__));
  w.Field("process_id", getpid());
  w.Field("process_supervised", "no");
  w.Field("run_id", st.run_id);
  w.Field("tcp_port", st.config.port.load());
  w.Field("server_time_usec", now_us);
  w.Field("uptime_in_seconds", uptime);
  w.Field("uptime_in_days", uptime / 86400);
  w.Field("hz", st.config.hz.load());
  w.Field("configured_hz", st.config.hz.load());
  w.Field("lru_clock", (now_us / 1000000) & ((1 << 24) - 1));
  w.Field("executable", st.executable);
  w.Field("config_file", st.config_file);
  w.Field("io_threads_active", 0);
  w.Field("shoal_version", "0.1.0");
  w.Field("shard_threads", st.shards->size());
}

void WriteClients(InfoWriter& w, CommandContext& c, const std::vector<ShardReport>& reps) {
  size_t clients = 0;
  for (const auto& r : reps) clients += r.clients;
  w.Section("Clients");
  w.Field("connected_clients", clients);
  w.Field("cluster_connections", 0);
  w.Field("maxclients", c.server().config.maxclients.load());
  w.Field("client_recent_max_input_buffer", 0);
  w.Field("client_recent_max_output_buffer", 0);
  w.Field("blocked_clients", server::ServerState::Get().blocked_clients.load());
  w.Field("tracking_clients", 0);
  w.Field("clients_in_timeout_table", 0);
}

void WriteMemory(InfoWriter& w, CommandContext& c) {
  static std::atomic<size_t> peak{0};
  size_t used = UsedMemory();
  size_t rss = ResidentMemory();
  size_t p = peak.load();
  while (used > p && !peak.compare_exchange_weak(p, used)) {
  }
  p = std::max(p, used);
  size_t total = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
  int64_t maxmemory = c.server().config.maxmemory.load();
  w.Section("Memory");
  w.Field("used_memory", used);
  w.Field("used_memory_human", Human(used));
  w.Field("used_memory_rss", rss);
  w.Field("used_memory_rss_human", Human(rss));
  w.Field("used_memory_peak", p);
  w.Field("used_memory_peak_human", Human(p));
  w.Field("used_memory_peak_perc", absl::StrFormat("%.2f%%", p ? 100.0 * used / p : 100.0));
  w.Field("total_system_memory", total);
  w.Field("total_system_memory_human", Human(total));
  // Lua scripting: every thread's VM together, and the script cache (Redis's EVAL figures).
  int64_t lua = script::LuaEngine::TotalVmBytes();
  size_t scripts = script::ScriptRegistry::Get().bytes();
  w.Field("used_memory_lua", lua);
  w.Field("used_memory_vm_eval", lua);
  w.Field("used_memory_lua_human", Human(static_cast<uint64_t>(lua)));
  w.Field("used_memory_scripts_eval", scripts);
  w.Field("number_of_cached_scripts", script::ScriptRegistry::Get().size());
  w.Field("used_memory_scripts", scripts);
  w.Field("used_memory_scripts_human", Human(scripts));
  // JSON documents: bytes held by every JSON key's tree (RedisJSON reports none of its own).
  int64_t json_bytes = storage::TotalJsonBytes();
  w.Field("used_memory_json", json_bytes);
  w.Field("used_memory_json_human", Human(static_cast<uint64_t>(json_bytes)));
  w.Field("maxmemory", maxmemory);
  w.Field("maxmemory_human", Human(static_cast<uint64_t>(maxmemory)));
  w.Field("maxmemory_policy", c.server().config.GetString("maxmemory-policy"));
  w.Field("mem_fragmentation_ratio", absl::StrFormat("%.2f", used ? 1.0 * rss / used : 0.0));
  w.Field("mem_allocator", AllocatorName());
  w.Field("lazyfree_pending_objects", 0);
}

void WritePersistence(InfoWriter& w, CommandContext& c) {
  snapshot::SnapshotInfo snap = snapshot::Snapshotter::Get().Info();
  int64_t now = UnixTimeMs() / 1000;
  w.Section("Persistence");
  w.Field("loading", 0);
  w.Field("async_loading", 0);
  // No fork, so no copy-on-write: these stay 0 (Redis's names, kept for tools that read them).
  w.Field("current_cow_peak", 0);
  w.Field("current_cow_size", 0);
  w.Field("current_cow_size_age", 0);
  w.Field("current_fork_perc", "0.00");
  w.Field("current_save_keys_processed", snap.in_progress ? snap.keys_processed : 0);
  w.Field("current_save_keys_total", 0);
  w.Field("rdb_changes_since_last_save", snap.changes_since_last_save);
  w.Field("rdb_bgsave_in_progress", snap.in_progress ? 1 : 0);
  w.Field("rdb_last_save_time", c.server().lastsave_unix.load());
  w.Field("rdb_last_bgsave_status", snap.last_ok ? "ok" : "err");
  w.Field("rdb_last_bgsave_time_sec", snap.last_duration_sec);
  w.Field("rdb_current_bgsave_time_sec",
          snap.in_progress ? now - snap.current_start_unix : -1);
  w.Field("rdb_saves", snap.saves);
  w.Field("rdb_last_cow_size", 0);
  w.Field("rdb_last_load_keys_expired", snap.last_load_keys_expired);
  w.Field("rdb_last_load_keys_loaded", snap.last_load_keys_loaded);
  w.Field("aof_enabled", 0);
  w.Field("aof_rewrite_in_progress", 0);
  w.Field("aof_rewrite_scheduled", 0);
  w.Field("aof_last_rewrite_time_sec", -1);
  w.Field("aof_current_rewrite_time_sec", -1);
  w.Field("aof_last_bgrewrite_status", "ok");
  w.Field("aof_rewrites", 0);
  w.Field("aof_rewrites_consecutive_failures", 0);
  w.Field("aof_last_write_status", "ok");
  w.Field("aof_last_cow_size", 0);
  w.Field("module_fork_in_progress", 0);
  w.Field("module_fork_last_cow_size", 0);
}

void WriteStats(InfoWriter& w, const std::vector<ShardReport>& reps) {
  ShardReport t;
  for (const auto& r : reps) {
    t.connections += r.connections;
    t.commands_processed += r.commands_processed;
    t.in_bytes += r.in_bytes;
    t.out_bytes += r.out_bytes;
    t.rejected += r.rejected;
    t.expired_keys += r.expired_keys;
    t.hits += r.hits;
    t.misses += r.misses;
    t.error_replies += r.error_replies;
  }
  w.Section("Stats");
  w.Field("total_connections_received", t.connections);
  w.Field("total_commands_processed", t.commands_processed);
  w.Field("instantaneous_ops_per_sec", 0);
  w.Field("total_net_input_bytes", t.in_bytes);
  w.Field("total_net_output_bytes", t.out_bytes);
  w.Field("rejected_connections", t.rejected);
  w.Field("expired_keys", t.expired_keys);
  w.Field("expired_stale_perc", "0.00");
  w.Field("expired_time_cap_reached_count", 0);
  w.Field("evicted_keys", 0);
  w.Field("keyspace_hits", t.hits);
  w.Field("keyspace_misses", t.misses);
  w.Field("pubsub_channels", 0);
  w.Field("pubsub_patterns", 0);
  w.Field("total_error_replies", t.error_replies);
}

void WriteReplication(InfoWriter& w, CommandContext& c) {
  w.Section("Replication");
  w.Field("role", "master");
  w.Field("connected_slaves", 0);
  w.Field("master_failover_state", "no-failover");
  w.Field("master_replid", c.server().run_id);
  w.Field("master_repl_offset", 0);
}

void WriteCpu(InfoWriter& w) {
  rusage self;
  getrusage(RUSAGE_SELF, &self);
  auto secs = [](const timeval& tv) {
    return absl::StrFormat("%.6f", tv.tv_sec + tv.tv_usec / 1e6);
  };
  w.Section("CPU");
  w.Field("used_cpu_sys", secs(self.ru_stime));
  w.Field("used_cpu_user", secs(self.ru_utime));
  w.Field("used_cpu_sys_children", "0.000000");
  w.Field("used_cpu_user_children", "0.000000");
}

void WriteErrorStats(InfoWriter& w, const std::vector<ShardReport>& reps) {
  std::map<std::string, uint64_t> errors;
  for (const auto& r : reps) {
    for (const auto& [k, v] : r.errors) errors[k] += v;
  }
  w.Section("Errorstats");
  for (const auto& [k, v] : errors) w.Field("errorstat_" + k, "count=" + std::to_string(v));
}

void WriteCommandStats(InfoWriter& w, const std::vector<ShardReport>& reps) {
  std::map<std::string, server::CommandStat> stats;
  for (const auto& r : reps) {
    for (const auto& [spec, s] : r.commands) {
      server::CommandStat& t = stats[spec->name];
      t.calls += s.calls;
      t.nsec += s.nsec;
      t.rejected_calls += s.rejected_calls;
      t.failed_calls += s.failed_calls;
    }
  }
  w.Section("Commandstats");
  for (const auto& [name, s] : stats) {
    if (s.calls == 0 && s.rejected_calls == 0 && s.failed_calls == 0) continue;
    uint64_t usec = s.nsec / 1000;
    w.Field("cmdstat_" + name,
            absl::StrFormat("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,"
                            "failed_calls=%d",
                            s.calls, usec, s.calls ? 1.0 * usec / s.calls : 0.0,
                            s.rejected_calls, s.failed_calls));
  }
}

// Percentiles of each command's latency, merged over the shard threads' histograms, in the
// format and order of Redis 7's INFO latencystats.
void WriteLatencyStats(InfoWriter& w, const std::vector<ShardReport>& reps,
                       const server::Config& config) {
  w.Section("Latencystats");
  if (config.GetString("latency-tracking") != "yes") return;
  std::vector<std::string> words;
  protocol::SplitInlineArgs(config.GetString("latency-tracking-info-percentiles"), &words);
  std::vector<double> percentiles;
  for (const std::string& word : words) {
    if (std::optional<double> p = ParseDouble(word)) percentiles.push_back(*p);
  }
  std::map<std::string, LatencyHistogram> merged;
  for (const auto& r : reps) {
    for (const auto& [spec, s] : r.commands) {
      if (s.latency.count() > 0) merged[spec->name].Merge(s.latency);
    }
  }
  for (const auto& [name, h] : merged) {
    std::string value;
    for (double p : percentiles) {
      absl::StrAppend(&value, value.empty() ? "" : ",", absl::StrFormat("p%g", p), "=",
                      absl::StrFormat("%.3f", h.PercentileNs(p) / 1000.0));
    }
    w.Field("latency_percentiles_usec_" + name, value);
  }
}

void WriteKeyspace(InfoWriter& w, const std::vector<ShardReport>& reps) {
  w.Section("Keyspace");
  if (reps.empty()) return;
  for (size_t db = 0; db < reps[0].dbs.size(); ++db) {
    size_t keys = 0, expires = 0;
    for (const auto& r : reps) {
      keys += r.dbs[db].first;
      expires += r.dbs[db].second;
    }
    if (keys == 0) continue;
    w.Field("db" + std::to_string(db), absl::StrFormat("keys=%d,expires=%d,avg_ttl=0", keys, expires));
  }
}

void Info(CommandContext& ctx) {
  // Which sections: none given means "default"; "all" is everything but modules;
  // "everything" is all of them.
  std::set<std::string> want;
  for (size_t i = 1; i < ctx.argc(); ++i) want.insert(AsciiToLower(ctx.arg(i)));
  bool everything = want.count("everything") > 0;
  bool all = everything || want.count("all") > 0;
  bool dflt = want.empty() || want.count("default") > 0;
  auto want_section = [=](const char* name, bool in_default) {
    return all || (dflt && in_default) || want.count(name) > 0;
  };
  struct Plan {
    bool server, clients, memory, persistence, stats, replication, cpu, modules, errorstats,
        cluster, keyspace, commandstats, latencystats;
  };
  Plan p{want_section("server", true),      want_section("clients", true),
         want_section("memory", true),      want_section("persistence", true),
         want_section("stats", true),       want_section("replication", true),
         want_section("cpu", true),         everything || dflt || want.count("modules") > 0,
         want_section("errorstats", true),  want_section("cluster", true),
         want_section("keyspace", true),    want_section("commandstats", false),
         want_section("latencystats", false)};
  auto reports = std::make_shared<std::vector<ShardReport>>(ctx.server().shards->size());
  ctx.FanOutAll([reports](shard::Shard& s) { (*reports)[s.id()] = Collect(s); },
                [reports, p](CommandContext& c) {
                  InfoWriter w;
                  if (p.server) WriteServer(w, c);
                  if (p.clients) WriteClients(w, c, *reports);
                  if (p.memory) WriteMemory(w, c);
                  if (p.persistence) WritePersistence(w, c);
                  if (p.stats) WriteStats(w, *reports);
                  if (p.replication) WriteReplication(w, c);
                  if (p.cpu) WriteCpu(w);
                  if (p.modules) w.Section("Modules");
                  if (p.errorstats) WriteErrorStats(w, *reports);
                  if (p.cluster) {
                    w.Section("Cluster");
                    w.Field("cluster_enabled", 0);
                  }
                  if (p.keyspace) WriteKeyspace(w, *reports);
                  if (p.commandstats) WriteCommandStats(w, *reports);
                  if (p.latencystats) WriteLatencyStats(w, *reports, c.server().config);
                  c.reply().Verbatim(w.text());
                });
}

}  // namespace

void RegisterInfoCommand(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "info", .arity = -1, .flags = kLoading | kStale, .handler = Info});
}

}  // namespace shoal::cmd
